package api

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
)

// goLiveState answers the state of the last go-live without probing the
// colors, so that a CI job can poll it cheaply (bascule go-live --watch).
func (h *Handler) goLiveState(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	st, err := h.opts.Deploy.GoLiveState(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
