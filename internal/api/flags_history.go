package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

// flagHistoryEntry is one version that changed a flag.
type flagHistoryEntry struct {
	Version int64     `json:"version"`
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
	// Changes are the lines of the version's summary about this flag.
	Changes []string `json:"changes"`
}

func (h *Handler) flagHistory(w http.ResponseWriter, r *http.Request, _ auth.Principal, svc *flag.Service) error {
	key := r.PathValue("key")
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errorf(http.StatusBadRequest, "bad_request", "limit %q: want 1 to 1000", v)
		}
		limit = n
	}
	list, err := svc.History(r.Context(), key, limit)
	if err != nil {
		return err
	}
	if _, exists := svc.Snapshot().Flags[key]; !exists && len(list) == 0 {
		return errorf(http.StatusNotFound, "not_found", "flag %q not found, and never was", key)
	}
	mention := flag.HistoryMention(key)
	out := make([]flagHistoryEntry, 0, len(list))
	for _, v := range list {
		e := flagHistoryEntry{Version: v.Version, Actor: v.Actor, At: v.CreatedAt, Changes: []string{}}
		for _, line := range strings.Split(v.Summary, "\n") {
			if strings.Contains(line, mention) {
				e.Changes = append(e.Changes, line)
			}
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": out})
	return nil
}
