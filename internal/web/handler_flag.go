package web

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

// flagView is one flag's page: what it serves, its editors and history.
type flagView struct {
	flagRow
	Version  int64
	Rules    []ruleView
	Segments []string
	Variants []string
	YAML     string
	History  []flagChange
}

// flagChange is one version that changed the flag.
type flagChange struct {
	Version int64
	Actor   string
	At      time.Time
	Changes []string
}

// flagHistoryLimit is how many versions a flag's page shows.
const flagHistoryLimit = 50

func (h *Handler) flagPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	svc := h.opts.Flags
	if svc == nil {
		return flagsOff
	}
	key := r.PathValue("key")
	snap := svc.Snapshot()
	f, ok := snap.Flags[key]
	if !ok {
		return &pageError{Status: http.StatusNotFound, Msg: fmt.Sprintf("There is no flag %q.", key)}
	}
	v := flagView{flagRow: newFlagRow(f), Version: snap.Version, YAML: string(flag.ExportFlag(f))}
	for i, rule := range f.Rules {
		v.Rules = append(v.Rules, ruleView{Index: i + 1, Text: ruleText(rule)})
	}
	v.Segments = sortedKeys(snap.Segments)
	v.Variants = sortedKeys(f.Variants)
	hist, err := h.flagHistory(r, key)
	if err != nil {
		return err
	}
	v.History = hist
	h.render(w, http.StatusOK, "flag", page{Title: "Flag " + key, Nav: "flags", User: p, Data: v, Flash: savedMessage(r)})
	return nil
}

func (h *Handler) flagHistory(r *http.Request, key string) ([]flagChange, error) {
	list, err := h.opts.Flags.History(r.Context(), key, flagHistoryLimit)
	if err != nil {
		return nil, err
	}
	mention := flag.HistoryMention(key)
	out := make([]flagChange, 0, len(list))
	for _, v := range list {
		c := flagChange{Version: v.Version, Actor: v.Actor, At: v.CreatedAt}
		for _, line := range strings.Split(v.Summary, "\n") {
			if strings.Contains(line, mention) {
				c.Changes = append(c.Changes, line)
			}
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, nil
}
