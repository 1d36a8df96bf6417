package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/bascule/bascule/internal/auth"
)

func deploymentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, &pageError{Status: http.StatusNotFound, Msg: fmt.Sprintf("There is no deployment %q.", r.PathValue("id"))}
	}
	return id, nil
}

// deploymentPage shows a deployment's steps, their durations and the app's
// log; while the pipeline runs, the page's script follows the events
// stream, so steps appear as they happen without a reload.
func (h *Handler) deploymentPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := deploymentID(r)
	if err != nil {
		return err
	}
	d, err := h.opts.Store.Deployment(r.Context(), id)
	if err != nil {
		return fmt.Errorf("deployment #%d: %w", id, err)
	}
	v := h.deploymentView(r.Context(), d)
	h.render(w, http.StatusOK, "deployment", page{Title: fmt.Sprintf("Deployment #%d", id), Nav: "history", User: p, Data: v})
	return nil
}
