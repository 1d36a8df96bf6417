package web

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/store"
)

// overviewView is the overview: both colors and what can be done now.
type overviewView struct {
	Status     deploy.Status
	Live, Idle colorView
	Colors     []colorView // blue, green
	Releases   []store.Release
	Newest     string // preselected in the Deploy form: the newest release not live already
	InProgress *store.Deployment
	DeployTo   string // the color a deployment would go to
	Deploy     actionView
	GoLive     actionView
	Rollback   actionView
	Finalize   actionView
	PreviewURL string
	// Routers lists the routers when there is more than the one inside
	// bascule serve, or one is stale or lagging; nil otherwise.
	Routers *fleet.Fleet
	// Sig changes whenever anything the panel shows changes, but traffic:
	// the live stream re-sends the panel only then.
	Sig string
}

type colorView struct {
	deploy.ColorStatus
	Rate    Rate
	History string // JSON rates for the chart
}

// actionView says whether an action can be taken now, on which release,
// and otherwise why not.
type actionView struct {
	Enabled bool
	Version string
	Why     string
}

func (h *Handler) overview(ctx context.Context) (*overviewView, error) {
	st, err := h.opts.Deploy.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	rels, err := h.opts.Store.ListReleases(ctx)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	v := &overviewView{Status: st, Releases: rels, InProgress: st.Deployment, PreviewURL: h.opts.PreviewURL}
	h.rates.sample(h.now(), h.opts.Tick/2, h.opts.Stats)
	rates := h.rates.latest("blue", "green")
	for _, cs := range st.Colors {
		cv := colorView{ColorStatus: cs, Rate: rates[cs.Color], History: h.rates.historyJSON(cs.Color)}
		v.Colors = append(v.Colors, cv)
		if cs.Live {
			v.Live = cv
		} else {
			v.Idle = cv
		}
	}
	// Deploying the release that is live already is rarely what anyone
	// wants: preselect the newest other one.
	for _, r := range rels {
		if r.Version != v.Live.Version || v.Live.Version == "" {
			v.Newest = r.Version
			break
		}
	}
	if v.Newest == "" && len(rels) > 0 {
		v.Newest = rels[0].Version
	}
	v.DeployTo = v.Idle.Color
	if v.Live.Version == "" {
		v.DeployTo = v.Live.Color // the very first deployment goes to the live color
	}
	v.Deploy, v.GoLive, v.Rollback, v.Finalize = v.deployAction(), v.goLiveAction(), v.rollbackAction(), v.finalizeAction()
	if h.opts.Fleet != nil {
		f, err := h.opts.Fleet.Routers(ctx)
		if err != nil {
			return nil, fmt.Errorf("list routers: %w", err)
		}
		show := len(f.Routers) > 1
		for _, r := range f.Routers {
			show = show || r.Stale || r.Lagging
		}
		if show {
			v.Routers = &f
		}
	}
	v.Sig = v.signature()
	return v, nil
}

func (v *overviewView) busy() string {
	if d := v.InProgress; d != nil {
		return fmt.Sprintf("Deployment #%d of %s is %s: wait for it to finish.", d.ID, d.Version, d.State)
	}
	if p := v.Status.Progressive; p != nil {
		return fmt.Sprintf("The go-live of %s is in progress (%d%% of users): promote it or roll back first.", p.Version, p.Percent)
	}
	return ""
}

func (v *overviewView) deployAction() actionView {
	switch {
	case len(v.Releases) == 0:
		return actionView{Why: "No release is registered yet: CI registers them with `bascule release add`."}
	case v.busy() != "":
		return actionView{Why: v.busy()}
	}
	return actionView{Enabled: true, Version: v.Newest}
}

func (v *overviewView) goLiveAction() actionView {
	if why := v.busy(); why != "" {
		return actionView{Why: why}
	}
	for _, c := range []colorView{v.Idle, v.Live} {
		if c.Version != "" && c.State == store.StateReady {
			a := actionView{Enabled: true, Version: c.Version}
			if !c.Healthy {
				a.Why = fmt.Sprintf("Careful: %s on %s does not pass its health check right now.", c.Version, c.Color)
			}
			return a
		}
	}
	return actionView{Why: fmt.Sprintf("Nothing is ready on %s: deploy a release first.", v.Idle.Color)}
}

func (v *overviewView) rollbackAction() actionView {
	idle := v.Idle
	if p := v.Status.Progressive; p != nil && v.InProgress == nil {
		// Back to the live color, which still serves most users.
		return actionView{Enabled: true, Version: v.Live.Version}
	}
	switch {
	case v.busy() != "":
		return actionView{Why: v.busy()}
	case idle.Version == "":
		return actionView{Why: fmt.Sprintf("Nothing to roll back to: %s runs no release.", idle.Color)}
	case idle.State == store.StateReady:
		return actionView{Why: fmt.Sprintf("%s holds %s, which has not been live yet: that is Go live, not a rollback.", idle.Color, idle.Version)}
	case !idle.Running:
		return actionView{Version: idle.Version, Why: fmt.Sprintf("%s on %s is not running, so it is not warm.", idle.Version, idle.Color)}
	case v.Status.RollbackBlocked != "":
		return actionView{Version: idle.Version, Why: v.Status.RollbackBlocked + "."}
	}
	return actionView{Enabled: true, Version: idle.Version}
}

func (v *overviewView) finalizeAction() actionView {
	live := v.Live
	switch {
	case v.busy() != "":
		return actionView{Why: v.busy()}
	case live.State == store.StateFinalized:
		return actionView{Version: live.Version, Why: live.Version + " is finalized already."}
	case live.State != store.StateLive:
		return actionView{Why: "Nothing live to finalize."}
	}
	why := "Runs " + live.Version + "'s contract migrations, if it has any."
	if e := v.Status.FinalizeEffect; e != "" {
		// The deploy package states the rule; the card only repeats it.
		why = e + "."
	}
	return actionView{Enabled: true, Version: live.Version, Why: why}
}

func (v *overviewView) signature() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%d|", v.Status.Live, v.Status.RollbackBlocked, len(v.Releases))
	for _, c := range v.Colors {
		fmt.Fprintf(h, "%s/%s/%s/%d/%t/%t|", c.Color, c.Version, c.State, c.DeploymentID, c.Running, c.Healthy)
	}
	if d := v.InProgress; d != nil {
		fmt.Fprintf(h, "%d/%s", d.ID, d.State)
	}
	if p := v.Status.Progressive; p != nil {
		fmt.Fprintf(h, "|progressive/%d/%d/%t", p.DeploymentID, p.Percent, p.Paused)
	}
	if g := v.Status.Guard; g != nil {
		// While it watches, the panel follows its counts and its clock.
		fmt.Fprintf(h, "|guard/%d/%s/%s/%d/%d/%d", g.DeploymentID, g.State, g.Reason, g.Requests, g.Errors, int(g.LeftSeconds))
	}
	if f := v.Routers; f != nil {
		fmt.Fprintf(h, "|fleet/%d", f.Generation)
		for _, r := range f.Routers {
			fmt.Fprintf(h, "/%s/%d/%d/%t", r.ID, r.Installed, r.Drained, r.Stale)
		}
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
