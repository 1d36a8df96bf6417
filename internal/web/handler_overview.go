package web

import (
	"fmt"
	"net/http"

	"github.com/bascule/bascule/internal/auth"
)

// overviewPage shows both colors side by side and the big actions.
func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	v, err := h.overview(r.Context())
	if err != nil {
		return err
	}
	pg := page{Title: "Overview", Nav: "overview", User: p, Data: v, Flash: doneMessage(r.URL.Query().Get("done"), v)}
	h.render(w, http.StatusOK, "overview", pg)
	return nil
}

// overviewError shows the overview again with why an action was not taken
// (a 409 from a concurrent click, an unknown release…), with its status.
func (h *Handler) overviewError(w http.ResponseWriter, r *http.Request, p auth.Principal, what string, err error) error {
	pe := describe(err)
	if pe.Status == http.StatusInternalServerError {
		h.log.Error(what, "err", err)
	}
	v, verr := h.overview(r.Context())
	if verr != nil {
		return verr
	}
	h.render(w, pe.Status, "overview", page{Title: "Overview", Nav: "overview", User: p, Data: v, Error: what + ": " + pe.Msg})
	return nil
}

// doneMessage confirms an action after its redirect, from the state as it
// is now; done is one of a few fixed words, never text shown as given.
func doneMessage(done string, v *overviewView) string {
	switch done {
	case actionGoLive:
		if pr := v.Status.Progressive; pr != nil {
			return fmt.Sprintf("Going live step by step: %d%% of users on %s (%s).", pr.Percent, pr.To, pr.Version)
		}
		return "Gone live: production runs " + v.Live.Version + " on " + v.Live.Color + "."
	case actionRollback:
		return "Rolled back: production runs " + v.Live.Version + " on " + v.Live.Color + "."
	case "finalize":
		return v.Live.Version + " is finalized."
	case "promote":
		return "Promoted: production runs " + v.Live.Version + " on " + v.Live.Color + "."
	case "pause", "resume":
		if pr := v.Status.Progressive; pr != nil {
			return "The go-live of " + pr.Version + " is " + map[string]string{"pause": "paused", "resume": "going on"}[done] + "."
		}
	}
	return ""
}
