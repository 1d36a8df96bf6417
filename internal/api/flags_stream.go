package api

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

// flagStream serves the flag configuration as Server-Sent Events (see
// flag.Service.ServeStream): whole snapshots for the Go SDK or, with
// ?format=ofrep, the change notifications the OFREP bulk answer announces.
func (h *Handler) flagStream(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	format := flag.StreamSnapshots
	if r.URL.Query().Get("format") == "ofrep" {
		format = flag.StreamOFREP
	}
	svc.ServeStream(w, r, format)
	return nil
}
