package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// How much of the audit log the page reads and shows.
const (
	auditScan = 5000
	auditShow = 300
)

type auditView struct {
	Actor, Action, Outcome string
	Actions, Outcomes      []string // the values seen, for the filters
	Entries                []store.AuditEntry
	Matched                int
}

// auditPage shows the audit log, newest first, filtered by actor (part of
// the name), action and outcome.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	v := auditView{Actor: strings.TrimSpace(q.Get("actor")), Action: q.Get("action"), Outcome: q.Get("outcome")}
	list, err := h.opts.Store.ListAudit(r.Context(), auditScan)
	if err != nil {
		return err
	}
	actions, outcomes := map[string]bool{}, map[string]bool{}
	for _, e := range list {
		actions[e.Action], outcomes[e.Outcome] = true, true
		if !v.matches(e) {
			continue
		}
		if v.Matched++; len(v.Entries) < auditShow {
			v.Entries = append(v.Entries, e)
		}
	}
	v.Actions, v.Outcomes = sortedKeys(actions), sortedKeys(outcomes)
	sort.SliceStable(v.Entries, func(i, j int) bool { return v.Entries[i].ID > v.Entries[j].ID })
	h.render(w, http.StatusOK, "audit", page{Title: "Audit", Nav: "audit", User: p, Data: v})
	return nil
}

func (v auditView) matches(e store.AuditEntry) bool {
	return (v.Actor == "" || strings.Contains(strings.ToLower(e.Actor), strings.ToLower(v.Actor))) &&
		(v.Action == "" || e.Action == v.Action) &&
		(v.Outcome == "" || e.Outcome == v.Outcome)
}
