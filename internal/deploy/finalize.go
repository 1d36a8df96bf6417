package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

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

// toFinalize returns the deployment that serves production, and whether
// the next deployment finalizes it: it does when that release is live and
// not finalized yet, because the release before it is about to lose its
// color anyway.
func (s *Service) toFinalize(ctx context.Context) (*store.Deployment, bool) {
	live, ok := s.serving(ctx)
	if !ok {
		return nil, false
	}
	return &live, live.State == store.StateLive
}

// finalizePrevious finalizes live, the release that served production
// until this deployment: its contract migrations run now.
func (p *pipeline) finalizePrevious(ctx context.Context, live *store.Deployment) error {
	if p.s.stopGuard(fmt.Sprintf("deployment #%d of %s finalizes %s", p.d.ID, p.d.Version, live.Version)) {
		if cur, ok := p.s.serving(ctx); ok {
			*live = cur // as the guard left it: its step ended
		}
	}
	if err := p.begin(ctx, StepFinalize, store.StateMigrating); err != nil {
		return err
	}
	msg, err := p.s.finalize(ctx, live)
	if err != nil {
		return fmt.Errorf("finalize %s: %w", live.Version, err)
	}
	return p.done(ctx, msg)
}

// finalize runs the contract phase of d's release and records it
// finalized, with a finalize step that says what the contract step did: a
// refused rollback quotes it.
func (s *Service) finalize(ctx context.Context, d *store.Deployment) (string, error) {
	start := s.now()
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
	end := s.now()
	d.Steps = append(d.Steps, store.Step{Name: StepFinalize, State: store.StepDone, Message: msg, StartedAt: start, EndedAt: &end})
	if err := s.move(ctx, d, ActionFinalize, store.StateFinalized); err != nil {
		return "", err
	}
	return msg, nil
}

// contractSummary returns what the contract step of the finalized
// deployment d did, as its finalize step recorded it ("1 contract
// migration applied: 001_drop_legacy"), without the lint's notes; "" when
// unknown (finalized before bascule recorded it).
func contractSummary(d store.Deployment) string {
	for i := len(d.Steps) - 1; i >= 0; i-- {
		if st := d.Steps[i]; st.Name == StepFinalize && st.State == store.StepDone {
			_, summary, _ := strings.Cut(st.Message, " finalized: ")
			summary, _, _ = strings.Cut(summary, "; lint:")
			return summary
		}
	}
	return ""
}

// Finalize runs the contract phase of the release that serves production.
// After it, rollback to the release before is refused when a database is
// migrated (finalizeLocksRollback): the schema may no longer have what that
// release needs.
func (s *Service) Finalize(ctx context.Context, actor, reason string) (Status, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Status{}, err
	}
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
		s.audit(ctx, actor, ActionFinalize, live.Version, "failed", err.Error())
		return Status{}, fmt.Errorf("finalize %s: %w", live.Version, err)
	}
	s.audit(ctx, actor, ActionFinalize, live.Version, "ok", msg+": "+reason)
	s.scaleDownIdle(ctx)
	return s.Status(ctx)
}

// finalizeLocksRollback is the one rule for rolling back past a finalized
// release, which the API, the CLI and the web UI all state through Status:
// finalizing a release refuses a rollback to the release before it (unless
// forced) only when bascule migrates a database, because only then does
// finalize run contract migrations that may remove what that release
// needs. Without a database, finalize only records the release as final
// and rollback stays as safe as before.
func (s *Service) finalizeLocksRollback() bool { return s.opts.Migrations != nil }

// olderOnOther returns the live deployment and the release on target when
// target holds an older release than the live one: the case the rule is
// about.
func (s *Service) olderOnOther(ctx context.Context, target router.Color) (live store.Deployment, other store.Slot, ok bool) {
	live, ok = s.serving(ctx)
	if !ok {
		return live, other, false
	}
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return live, other, false
	}
	other = slots[string(target)]
	return live, other, other.Version != "" && other.DeploymentID < live.ID
}

// rollbackBlocked says why switching from the serving release to the other
// color would break it, or "" when it is safe.
func (s *Service) rollbackBlocked(ctx context.Context, target router.Color) string {
	live, other, ok := s.olderOnOther(ctx, target)
	if !ok || live.State != store.StateFinalized || !s.finalizeLocksRollback() {
		return ""
	}
	switch summary := contractSummary(live); {
	case strings.HasPrefix(summary, migrate.NoContract):
		return fmt.Sprintf("%s is finalized, though its contract step changed nothing (it shipped no contract migrations): "+
			"the schema should still work for %s, but finalizing declared %s gone. Roll back with --force to go back to it, or deploy a fix forward",
			live.Version, other.Version, other.Version)
	case summary != "":
		return fmt.Sprintf("%s is finalized: its contract step ran (%s), removing what only %s needed from the database, "+
			"so %s may break. Deploy a fix forward, or roll back with --force if you know the schema still works for %s",
			live.Version, summary, other.Version, other.Version, other.Version)
	}
	return fmt.Sprintf("%s is finalized: its contract step has run, so the database may no longer have what %s needs. "+
		"Deploy a fix forward, or roll back with --force if you know the schema still works for %s",
		live.Version, other.Version, other.Version)
}

// finalizeEffect says what finalizing does, or did, to a rollback to the
// release on target, by the rule above; "" when there is no older release
// to roll back to, or when rollbackBlocked says it already.
func (s *Service) finalizeEffect(ctx context.Context, target router.Color) string {
	live, other, ok := s.olderOnOther(ctx, target)
	switch {
	case !ok || (live.State != store.StateLive && live.State != store.StateFinalized):
		return ""
	case !s.finalizeLocksRollback():
		return fmt.Sprintf("No database is configured, so finalize runs no migrations: rolling back to %s stays possible after it", other.Version)
	case live.State == store.StateLive:
		return fmt.Sprintf("Finalizing %s runs its contract migrations; after that, rolling back to %s is refused (unless forced)", live.Version, other.Version)
	}
	return ""
}
