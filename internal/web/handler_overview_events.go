package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/bascule/bascule/internal/auth"
)

// recheckSession is how often a long-lived stream checks that its session
// still exists, so a logged-out or disabled user's open tab goes quiet.
const recheckSession = 30 * time.Second

// overviewEvents streams the overview: a "stats" event with each color's
// traffic every tick, and a "panel" event with the colors and actions,
// rendered as on the page, whenever they change (every other tick at most,
// as reading the status probes both colors). The page passes the signature
// of the panel it shows as ?sig=, so a change made meanwhile is not missed.
func (h *Handler) overviewEvents(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	es := startStream(w)
	sig := r.URL.Query().Get("sig")
	tick := time.NewTicker(h.opts.Tick)
	defer tick.Stop()
	checked := h.now()
	for n := 0; ; n++ {
		if h.sessionEnded(r, &checked) {
			es.send("expired", "log in again")
			return nil
		}
		h.rates.sample(h.now(), h.opts.Tick/2, h.opts.Stats)
		stats, _ := json.Marshal(h.rates.latest("blue", "green"))
		if es.send("stats", string(stats)) != nil {
			return nil
		}
		if n%2 == 0 {
			sig = h.sendPanel(es, r, p, sig)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// sendPanel sends the panel if its signature differs from sig and returns
// the signature the client now has.
func (h *Handler) sendPanel(es *eventStream, r *http.Request, p auth.Principal, sig string) string {
	v, err := h.overview(r.Context())
	if err != nil || v.Sig == sig {
		return sig
	}
	html, err := h.pages.exec("overview", "panel", page{User: p, Data: v})
	if err != nil {
		h.log.Error("render overview panel", "err", err)
		return sig
	}
	if es.send("panel", html) != nil {
		return sig
	}
	return v.Sig
}

// sessionEnded re-checks the session once per recheckSession.
func (h *Handler) sessionEnded(r *http.Request, checked *time.Time) bool {
	if h.now().Sub(*checked) < recheckSession {
		return false
	}
	*checked = h.now()
	_, err := h.opts.Auth.Authenticate(r)
	return err != nil
}
