package web

import (
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// historyLimit is how many deployments the history reads.
const historyLimit = 500

type historyView struct {
	State       store.State
	Version     string
	States      []store.State
	Deployments []historyRow
	Total       int
}

type historyRow struct {
	store.Deployment
	Took  string
	Steps []stepView
}

// historyPage lists every deployment, newest first, filtered by state and
// version, each with its timeline of steps.
func (h *Handler) historyPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	v := historyView{State: store.State(q.Get("state")), Version: strings.TrimSpace(q.Get("version")), States: store.States()}
	list, err := h.opts.Store.ListDeployments(r.Context(), h.opts.Deploy.App(), historyLimit)
	if err != nil {
		return err
	}
	v.Total = len(list)
	now := h.now()
	for _, d := range list {
		if (v.State != "" && d.State != v.State) || (v.Version != "" && !strings.Contains(d.Version, v.Version)) {
			continue
		}
		row := historyRow{Deployment: d}
		if d.FinishedAt != nil {
			row.Took = duration(d.FinishedAt.Sub(d.CreatedAt))
		}
		for _, s := range d.Steps {
			row.Steps = append(row.Steps, stepView{Name: s.Name, Label: label(s.Name), State: s.State, Dur: duration(s.Duration(now))})
		}
		v.Deployments = append(v.Deployments, row)
	}
	h.render(w, http.StatusOK, "history", page{Title: "History", Nav: "history", User: p, Data: v})
	return nil
}
