package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
)

// The two switches, as the audit log names them.
const (
	actionGoLive   = "go-live"
	actionRollback = "rollback"
)

var switchVerbs = map[string]string{actionGoLive: "Go live", actionRollback: "Roll back"}

// switchAction answers Go live and Rollback. Both move production to the
// other color; the form says which color was live when the user decided
// (field "live"), and if production moved since, the action is refused with
// a 409 rather than undoing what someone else just did. Two clicks at the
// same moment are kept apart too: one wins, the other gets a 409.
func (h *Handler) switchAction(action string) func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	verb := switchVerbs[action]
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		seen := r.PostFormValue("live")
		if !confirmed(r) {
			detail := "All production traffic moves to the other color at once; requests in flight finish where they started."
			if steps := r.PostFormValue("steps"); action == actionGoLive && steps != "" {
				detail = "A growing share of users moves to the other color: " + steps + " percent, a step every " +
					r.PostFormValue("interval") + "; each user stays on one color at each step."
			}
			return h.askConfirm(w, p, confirmView{Action: "/" + action, Question: verb + "?", Detail: detail, Button: verb,
				Fields: map[string]string{"live": seen, "steps": r.PostFormValue("steps"), "interval": r.PostFormValue("interval")}})
		}
		// The check of what is live and the switch must not interleave with
		// another person's: held together, the second click sees the first
		// one's result and is refused, instead of undoing it.
		if !h.switching.TryLock() {
			return h.refuseSwitch(w, r, p, action, "Another go-live or rollback is in progress. Nothing was done; look at the overview again.")
		}
		defer h.switching.Unlock()
		if seen != "" {
			st, err := h.opts.Deploy.Status(r.Context())
			if err != nil {
				return err
			}
			if st.Live != seen {
				return h.refuseSwitch(w, r, p, action, "Production moved since you loaded the page: "+st.Live+
					" is live now, not "+seen+". Nothing was done; look at the overview again before acting.")
			}
		}
		if err := h.doSwitch(r, p, action); err != nil {
			return h.overviewError(w, r, p, verb, err)
		}
		http.Redirect(w, r, "/?done="+action, http.StatusSeeOther)
		return nil
	}
}

func (h *Handler) doSwitch(r *http.Request, p auth.Principal, action string) error {
	var err error
	switch {
	case action == actionGoLive && strings.TrimSpace(r.PostFormValue("steps")) != "":
		return h.goLiveProgressive(r, p)
	case action == actionGoLive:
		_, err = h.opts.Deploy.GoLive(r.Context(), p.Name, reason(r))
	default:
		_, err = h.opts.Deploy.Rollback(r.Context(), p.Name, reason(r), false)
	}
	return err
}

// refuseSwitch audits a switch refused before it reached the deploy
// service, and shows why with a 409.
func (h *Handler) refuseSwitch(w http.ResponseWriter, r *http.Request, p auth.Principal, action, msg string) error {
	h.audit(r, p, action, "", "refused", msg)
	return h.overviewError(w, r, p, switchVerbs[action], &deploy.ConflictError{Msg: msg})
}

// goLiveProgressive starts a progressive go-live from the go-live form's
// steps ("1,10,50,100") and interval ("2m").
func (h *Handler) goLiveProgressive(r *http.Request, p auth.Principal) error {
	steps, err := deploy.ParseSteps(r.PostFormValue("steps"))
	if err != nil {
		return &deploy.InputError{Msg: err.Error()}
	}
	interval, err := time.ParseDuration(strings.TrimSpace(r.PostFormValue("interval")))
	if err != nil {
		return &deploy.InputError{Msg: "interval: write a duration such as 2m or 30s"}
	}
	_, err = h.opts.Deploy.GoLiveProgressive(r.Context(), p.Name, reason(r), steps, interval)
	return err
}

// The actions on a progressive go-live in progress.
var progressVerbs = map[string]string{"promote": "Promote", "pause": "Pause", "resume": "Resume"}

// progressAction answers Promote, Pause and Resume of the progressive
// go-live in progress. They change only how fast users move, or (promote)
// finish what a person already started, so the overview's buttons send
// them confirmed.
func (h *Handler) progressAction(action string) func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	verb := progressVerbs[action]
	do := map[string]func(context.Context, string, string) (deploy.Status, error){
		"promote": h.opts.Deploy.Promote, "pause": h.opts.Deploy.Pause, "resume": h.opts.Deploy.Resume}[action]
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if !confirmed(r) {
			return h.askConfirm(w, p, confirmView{Action: "/go-live/" + action, Question: verb + "?",
				Detail: "Acts on the progressive go-live in progress.", Button: verb})
		}
		if _, err := do(r.Context(), p.Name, reason(r)); err != nil {
			return h.overviewError(w, r, p, verb, err)
		}
		http.Redirect(w, r, "/?done="+action, http.StatusSeeOther)
		return nil
	}
}
