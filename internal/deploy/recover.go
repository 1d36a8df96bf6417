package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// Recover reconciles after a start: a deployment interrupted by a crash is
// marked failed and its candidate stopped (never half-switched: traffic only
// moves on an explicit switch, which is persisted first), and the live color
// is restarted if its process is gone (say, after a host reboot). The
// router must already serve the persisted table; Recover first replaces
// it with the fleet's table from the store, the last leader's, published
// under a new generation before anything else, then mends it.
func (s *Service) Recover(ctx context.Context) error {
	s.switching.Lock()
	defer s.switching.Unlock()
	if err := s.adoptStoredTable(ctx); err != nil {
		return err
	}
	if err := s.failInterrupted(ctx); err != nil {
		return err
	}
	t := s.opts.Router.Table()
	for _, c := range []router.Color{router.Blue, router.Green} {
		inst, ok := s.opts.Driver.Instance(string(c))
		if ok && t.Upstreams[c] != upstream(inst) && t.Upstreams[c] != "" {
			if err := s.setUpstream(ctx, c, upstream(inst)); err != nil {
				return err
			}
		}
	}
	if _, ok := s.opts.Driver.Instance(string(t.Live)); !ok && t.Upstreams[t.Live] != "" {
		s.log.Warn("the live color is not running: starting it", "color", t.Live)
		addr, err := s.ensureRunning(ctx, t.Live)
		if err != nil {
			return fmt.Errorf("restart live color %s: %w", t.Live, err)
		}
		if err := s.setUpstream(ctx, t.Live, addr); err != nil {
			return err
		}
	}
	s.resumeProgress(ctx)
	idle := t.Live.Other()
	if _, ok := s.opts.Driver.Instance(string(idle)); !ok && t.Upstreams[idle] != "" && s.progressive() == nil {
		// Rollback will start it on demand; until then preview has nothing.
		if err := s.setUpstream(ctx, idle, ""); err != nil {
			return err
		}
	}
	s.resumeGuard(ctx)
	// What the router serves is on disk too, even when the router mended
	// the table it was given at start.
	if err := s.route(ctx, s.opts.Router.Table()); err != nil {
		return err
	}
	s.startCollector()
	return nil
}

func (s *Service) failInterrupted(ctx context.Context) error {
	d, err := s.opts.Store.ActiveDeployment(ctx, s.opts.App)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find interrupted deployment: %w", err)
	}
	step := "queued"
	if n := len(d.Steps); n > 0 {
		step = d.Steps[n-1].Name
		if d.Steps[n-1].EndedAt == nil {
			now := s.now()
			d.Steps[n-1].State, d.Steps[n-1].EndedAt = store.StepFailed, &now
		}
	}
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return fmt.Errorf("find interrupted deployment's slot: %w", err)
	}
	// Stop the candidate, if it got as far as replacing what ran on its
	// color, unless that color serves another, earlier release. Before
	// its replace step, the color still runs what it ran (the rollback
	// target) and stays as it is.
	slot := slots[d.Color]
	if d.Color != "" && reached(d, StepReplace) &&
		(router.Color(d.Color) != s.opts.Router.Table().Live || slot.DeploymentID == d.ID || slot.Version == "") {
		if reached(d, StepStart) {
			d.LogTail = s.opts.Driver.Logs(d.Color, logTailLines)
		}
		s.clearSlot(ctx, router.Color(d.Color))
	}
	now := s.now()
	d.FinishedAt = &now
	d.Error = fmt.Sprintf("interrupted: bascule stopped during step %q; production traffic never moved", step)
	if err := s.move(ctx, &d, ActionDeploy, store.StateFailed); err != nil {
		return fmt.Errorf("fail interrupted deployment: %w", err)
	}
	s.audit(ctx, "bascule", ActionDeploy, d.Version, "failed", fmt.Sprintf("deployment #%d: %s", d.ID, d.Error))
	return nil
}

// reached reports whether d began the step name.
func reached(d store.Deployment, name string) bool {
	return slices.ContainsFunc(d.Steps, func(st store.Step) bool { return st.Name == name })
}
