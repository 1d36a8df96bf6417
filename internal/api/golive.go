package api

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
)

// goLiveState answers the state of the last go-live without probing the
// colors, so that a CI job can poll it cheaply (bascule go-live --watch).
func (h *Handler) goLiveState(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	writeJSON(w, http.StatusOK, h.opts.Deploy.GoLiveState())
	return nil
}
