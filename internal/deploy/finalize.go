package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// abandonReady fails a release that was ready on the target color but never
// went live: its color is about to be replaced.
func (s *Service) abandonReady(ctx context.Context, d *store.Deployment) {
	recent, err := s.opts.Store.ListDeployments(ctx, s.opts.App, 20)
	if err != nil {
		s.log.Error("list deployments", "err", err)
		return
	}
	now := s.now()
	for i := range recent {
		old := &recent[i]
		if old.ID == d.ID || old.State != store.StateReady || old.Color != d.Color {
			continue
		}
		old.State, old.Error = store.StateFailed, fmt.Sprintf("superseded by deployment #%d before going live", d.ID)
		old.UpdatedAt, old.FinishedAt = now, &now
		if err := s.opts.Store.UpdateDeployment(ctx, old); err != nil {
			s.log.Error("update superseded deployment", "id", old.ID, "err", err)
		}
		s.events.publish(*old)
	}
}

// serving returns the deployment whose release serves production.
func (s *Service) serving(ctx context.Context) (store.Deployment, bool) {
	t := s.opts.Router.Table()
	if t.Upstreams[t.Live] == "" {
		return store.Deployment{}, false
	}
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil || slots[string(t.Live)].DeploymentID == 0 {
		return store.Deployment{}, false
	}
	d, err := s.opts.Store.Deployment(ctx, slots[string(t.Live)].DeploymentID)
	return d, err == nil
}

// finalizePrevious finalizes the release that serves production when the
// next one starts deploying: its contract migrations run now, because the
// release before it is about to lose its color anyway.
func (p *pipeline) finalizePrevious(ctx context.Context) error {
	live, ok := p.s.serving(ctx)
	if !ok || live.State != store.StateLive {
		return nil
	}
	if p.s.stopGuard(fmt.Sprintf("deployment #%d of %s finalizes %s", p.d.ID, p.d.Version, live.Version)) {
		live, _ = p.s.serving(ctx) // as the guard left it: its step ended
	}
	p.begin(StepFinalize, store.StateMigrating)
	msg, err := p.s.finalize(ctx, &live)
	if err != nil {
		return fmt.Errorf("finalize %s: %w", live.Version, err)
	}
	p.done(msg)
	return nil
}

// finalize runs the contract phase of d's release and records it finalized.
func (s *Service) finalize(ctx context.Context, d *store.Deployment) (string, error) {
	msg := d.Version + " finalized"
	if s.opts.Migrations != nil {
		rel, err := s.opts.Store.Release(ctx, d.Version)
		if err != nil {
			return "", err
		}
		dir, err := s.unpack(ctx, rel)
		if err != nil {
			return "", err
		}
		summary, err := s.opts.Migrations.Contract(ctx, d.Version, dir, func(line string) {
			s.log.Info("contract", "version", d.Version, "event", line)
		})
		if err != nil {
			return "", err
		}
		msg += ": " + summary
	}
	d.State = store.StateFinalized
	s.saveDeployment(ctx, d)
	return msg, nil
}

// Finalize runs the contract phase of the release that serves production.
// After it, rollback to the release before is refused: the schema no longer
// has what that release needs.
func (s *Service) Finalize(ctx context.Context, actor, reason string) (Status, error) {
	if !s.switching.TryLock() {
		return Status{}, s.activeConflict(ctx)
	}
	defer s.switching.Unlock()
	if p := s.progressive(); p != nil {
		return Status{}, progressConflict(p, "finalize once it is at 100%")
	}
	live, ok := s.serving(ctx)
	switch {
	case !ok:
		return Status{}, conflict("nothing serves production: there is nothing to finalize")
	case live.State == store.StateFinalized:
		return Status{}, conflict("%s is already finalized", live.Version)
	case live.State != store.StateLive:
		return Status{}, conflict("%s is %s; only the live release can be finalized", live.Version, live.State)
	}
	if s.stopGuard("finalized by " + actor) {
		live, _ = s.serving(ctx) // as the guard left it: its step ended
	}
	msg, err := s.finalize(ctx, &live)
	if err != nil {
		s.audit(ctx, actor, "finalize", live.Version, "failed", err.Error())
		return Status{}, fmt.Errorf("finalize %s: %w", live.Version, err)
	}
	s.audit(ctx, actor, "finalize", live.Version, "ok", msg+": "+reason)
	return s.Status(ctx)
}

// rollbackBlocked says why switching from the serving release to the other
// color would break it, or "" when it is safe.
func (s *Service) rollbackBlocked(ctx context.Context, target router.Color) string {
	live, ok := s.serving(ctx)
	if !ok || live.State != store.StateFinalized {
		return ""
	}
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return ""
	}
	other := slots[string(target)]
	if other.Version == "" || other.DeploymentID > live.ID || s.opts.Migrations == nil {
		return ""
	}
	return fmt.Sprintf("%s is finalized: its contract migrations removed what %s needs from the database, "+
		"so %s would break. Deploy a fix forward, or roll back with --force if you know the schema still works for %s",
		live.Version, other.Version, other.Version, other.Version)
}

// migrate runs the expand phase, then checks that the live release still
// answers its health check against the expanded schema: if it does not, the
// deployment fails before any traffic moves.
func (p *pipeline) migrate(ctx context.Context, version, dir string) error {
	s := p.s
	p.begin(StepMigrate, store.StateMigrating)
	if s.opts.Migrations == nil {
		p.endStep(store.StepSkipped, "no database configured")
		return nil
	}
	var lines []string
	summary, err := s.opts.Migrations.Expand(ctx, version, dir, func(line string) {
		lines = append(lines, line)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := s.checkLive(ctx); err != nil {
		return err
	}
	p.done(strings.Join(append([]string{summary}, lines...), "\n"))
	return nil
}

func (s *Service) checkLive(ctx context.Context) error {
	t := s.opts.Router.Table()
	addr := t.Upstreams[t.Live]
	if addr == "" {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, s.probeTimeout())
	defer cancel()
	if err := runtime.Probe(pctx, addr, s.opts.Health); err != nil {
		return fmt.Errorf("the live release on %s fails its health check after the expand migrations "+
			"(they are applied; its schema changes must be backward compatible): %w", t.Live, err)
	}
	return nil
}

func (s *Service) unpack(ctx context.Context, rel store.Release) (string, error) {
	if s.opts.Artifacts == nil {
		return "", errors.New("no artifact store")
	}
	return s.opts.Artifacts.Unpack(ctx, rel.Digest, rel.Format, rel.Filename)
}
