package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

type flagsView struct {
	Version int64
	Flags   []flagRow
	Types   []flag.Type
}

var flagTypes = []flag.Type{flag.TypeRelease, flag.TypeOps, flag.TypeExperiment, flag.TypePermission}

// flagsPage lists the flags with what each serves, a toggle and the
// rollout, for deployers.
func (h *Handler) flagsPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if h.opts.Flags == nil {
		return flagsOff
	}
	snap := h.opts.Flags.Snapshot()
	v := flagsView{Version: snap.Version, Types: flagTypes}
	for _, k := range snap.FlagKeys() {
		v.Flags = append(v.Flags, newFlagRow(snap.Flags[k]))
	}
	h.render(w, http.StatusOK, "flags", page{Title: "Flags", Nav: "flags", User: p, Data: v, Flash: savedMessage(r)})
	return nil
}

// createFlag adds a boolean flag, off, after review.
func (h *Handler) createFlag(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	key := strings.TrimSpace(r.PostFormValue("key"))
	f := &flag.Flag{Key: key, Description: strings.TrimSpace(r.PostFormValue("description")),
		Owner: strings.TrimSpace(r.PostFormValue("owner")), Type: flag.Type(r.PostFormValue("type"))}
	return h.reviewOrSave(w, r, p, change{edit: flag.Edit{Action: "flag.create", Target: key},
		apply: func(d *flag.Draft) error { return d.CreateFlag(f) },
		what:  "new flag " + key, action: "/flags", back: "/flags", done: "/flags/" + url.PathEscape(key)})
}
