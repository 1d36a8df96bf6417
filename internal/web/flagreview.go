package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

// flagsOff answers the flag pages of a server built without flags.
var flagsOff = &pageError{Status: http.StatusServiceUnavailable, Msg: "Feature flags are not enabled on this server."}

// reviewView shows what a flag or segment change would do before it is
// saved: the flag service's own diff of a dry run.
type reviewView struct {
	What    string // "flag checkout-v2"
	Action  string // where the form posts
	Back    string // where Cancel goes
	Changes []string
	Fields  map[string]string // the change, carried to the save
	Version int64             // the version the diff was made against
	Problem string            // why the change cannot be made
}

// change is one edit of the flags, as its review and its save make it.
type change struct {
	edit   flag.Edit
	apply  func(*flag.Draft) error
	what   string
	action string // the form's URL
	back   string // the page of the flag or segment
	done   string // where to go after the save; "": back
}

// reviewOrSave shows the diff of c (a dry run) unless the form confirms
// it; then it saves c, but only on the version the diff was made against,
// so a change made by someone else in between is never overwritten unseen.
func (h *Handler) reviewOrSave(w http.ResponseWriter, r *http.Request, p auth.Principal, c change) error {
	svc := h.opts.Flags
	if svc == nil {
		return flagsOff
	}
	c.edit.Actor = p.Name
	v := reviewView{What: c.what, Action: c.action, Back: c.back, Fields: formFields(r)}
	if !confirmed(r) {
		c.edit.DryRun = true
		out, err := svc.Update(r.Context(), c.edit, c.apply)
		return h.showReview(w, p, v, out, err)
	}
	base, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		return badRequest("The change has no version to save against; review it again.")
	}
	c.edit.IfVersion = &base
	out, err := svc.Update(r.Context(), c.edit, c.apply)
	if err != nil {
		return h.showReview(w, p, v, out, err)
	}
	done := c.done
	if done == "" {
		done = c.back
	}
	http.Redirect(w, r, fmt.Sprintf("%s?saved=%d", done, out.Version), http.StatusSeeOther)
	return nil
}

func (h *Handler) showReview(w http.ResponseWriter, p auth.Principal, v reviewView, out flag.Outcome, err error) error {
	status := http.StatusOK
	v.Changes, v.Version = out.Changes, out.Version
	if err != nil {
		pe := describe(err)
		if pe.Status == http.StatusInternalServerError {
			return err
		}
		status, v.Problem, v.Changes = pe.Status, pe.Msg, nil
	}
	h.render(w, status, "review", page{Title: "Review " + v.What, Nav: "flags", User: p, Data: v})
	return nil
}

// formFields are the fields of a change's form, to carry from its review
// to its save.
func formFields(r *http.Request) map[string]string {
	out := map[string]string{}
	for k, vs := range r.PostForm {
		if k == "csrf_token" || k == "confirm" || k == "version" || len(vs) == 0 {
			continue
		}
		out[k] = vs[0]
	}
	return out
}

// savedMessage confirms a save after its redirect; saved is a number.
func savedMessage(r *http.Request) string {
	v, err := strconv.ParseInt(r.URL.Query().Get("saved"), 10, 64)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("Saved: the flags are at version %d.", v)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
