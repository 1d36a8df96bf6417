package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// maxAuditExport bounds one audit request; an export of more pages by
// date is a later need.
const maxAuditExport = 100_000

// listAudit returns the audit log, newest first, filtered by actor, action
// and outcome when given. With ?format=jsonl it is an export: one JSON
// object per line, oldest first, as log pipelines ingest it.
func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	q := r.URL.Query()
	limit := 500
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditExport {
			return errorf(http.StatusBadRequest, "bad_request", "limit %q: want 1 to %d", v, maxAuditExport)
		}
		limit = n
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "jsonl" {
		return errorf(http.StatusBadRequest, "bad_request", "format %q: want json or jsonl", format)
	}
	list, err := h.opts.Store.ListAudit(r.Context(), limit)
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(e store.AuditEntry) bool {
		return !matches(q.Get("actor"), e.Actor) || !matches(q.Get("action"), e.Action) || !matches(q.Get("outcome"), e.Outcome)
	})
	if format != "jsonl" {
		if list == nil {
			list = []store.AuditEntry{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"audit": list})
		return nil
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="bascule-audit.jsonl"`)
	enc := json.NewEncoder(w)
	for i := len(list) - 1; i >= 0; i-- {
		if err := enc.Encode(list[i]); err != nil {
			return nil // the client went away; nothing left to tell it
		}
	}
	return nil
}

// matches is an exact filter; an empty filter matches everything.
func matches(filter, value string) bool { return filter == "" || filter == value }
