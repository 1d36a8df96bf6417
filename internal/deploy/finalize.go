package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bascule/bascule/internal/migrate"
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

// gates runs every migration gate of the deployment before anything of it
// touches production: the candidate's lint, and the rehearsal on a shadow
// copy of the schema of the live release's contract step (when this
// deployment finalizes it) followed by the candidate's expand step.
func (p *pipeline) gates(ctx context.Context, version, dir string, live *store.Deployment, finalize bool) error {
	s := p.s
	if s.opts.Migrations == nil {
		return nil
	}
	p.begin(StepGates, store.StateMigrating)
	plan := migrate.Plan{Candidate: migrate.Release{Version: version, Dir: dir}, Finalize: finalize}
	if live != nil {
		rel, err := s.opts.Store.Release(ctx, live.Version)
		if err != nil {
			return fmt.Errorf("gates: read the live release %s: %w", live.Version, err)
		}
		liveDir, err := s.unpack(ctx, rel)
		if err != nil {
			return fmt.Errorf("gates: unpack the live release %s: %w", live.Version, err)
		}
		plan.Live = migrate.Release{Version: live.Version, Dir: liveDir}
	}
	var lines []string
	summary, err := s.opts.Migrations.Check(ctx, plan, func(line string) { lines = append(lines, line) })
	if err != nil {
		err = fmt.Errorf("gates: %w", err)
		// The step keeps what the gates said before refusing (lint
		// warnings, risks the shadow saw), under the reason.
		p.endStep(store.StepFailed, strings.Join(append([]string{err.Error()}, lines...), "\n"))
		return err
	}
	p.done(strings.Join(append([]string{summary}, lines...), "\n"))
	return nil
}

// finalizePrevious finalizes live, the release that served production
// until this deployment: its contract migrations run now.
func (p *pipeline) finalizePrevious(ctx context.Context, live *store.Deployment) error {
	if p.s.stopGuard(fmt.Sprintf("deployment #%d of %s finalizes %s", p.d.ID, p.d.Version, live.Version)) {
		if cur, ok := p.s.serving(ctx); ok {
			*live = cur // as the guard left it: its step ended
		}
	}
	p.begin(StepFinalize, store.StateMigrating)
	msg, err := p.s.finalize(ctx, live)
	if err != nil {
		return fmt.Errorf("finalize %s: %w", live.Version, err)
	}
	p.done(msg)
	return nil
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
	d.State = store.StateFinalized
	d.Steps = append(d.Steps, store.Step{Name: StepFinalize, State: store.StepDone, Message: msg, StartedAt: start, EndedAt: &end})
	s.saveDeployment(ctx, d)
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
