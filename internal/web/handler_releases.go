package web

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// releaseView is a release and where it runs now.
type releaseView struct {
	store.Release
	Where string // "live on blue", "idle on green", ""
	Live  bool
}

// releasesPage lists the registered releases, newest first, and where each
// one runs.
func (h *Handler) releasesPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	rels, err := h.opts.Store.ListReleases(ctx)
	if err != nil {
		return err
	}
	slots, err := h.opts.Store.Slots(ctx, h.opts.Deploy.App())
	if err != nil {
		return err
	}
	live := h.liveColor(r)
	out := make([]releaseView, 0, len(rels))
	for _, rel := range rels {
		rv := releaseView{Release: rel}
		for _, c := range []string{"blue", "green"} {
			if slots[c].Version == rel.Version {
				rv.Live = c == live
				rv.Where = map[bool]string{true: "live on ", false: "idle on "}[rv.Live] + c
			}
		}
		out = append(out, rv)
	}
	h.render(w, http.StatusOK, "releases", page{Title: "Releases", Nav: "releases", User: p, Data: out})
	return nil
}

// liveColor is the color production goes to. The status probes both
// colors; the deployments say as much without a probe, but the router's
// table is the truth, and the status is where it is read.
func (h *Handler) liveColor(r *http.Request) string {
	st, err := h.opts.Deploy.Status(r.Context())
	if err != nil {
		return ""
	}
	return st.Live
}
