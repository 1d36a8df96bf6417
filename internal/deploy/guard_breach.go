package deploy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// breach rolls back through the rollback button's path, or, when that is
// not safe, says so and leaves production as it is. why is in words for a
// person, without the "guard: " prefix.
func (w *guardWatch) breach(ctx context.Context, why string) {
	s := w.s
	reason := "guard: " + why
	s.log.Warn("guard: breach", "version", w.version, "color", w.to, "why", why)
	// A person switching, or a deployment finalizing this release, holds
	// the lock and stands this watch down (ctx ends) before it lets go.
	if !s.switching.LockContext(ctx) {
		w.cancelled(ctx)
		return
	}
	defer s.switching.Unlock()
	if !w.serving(s.opts.Router.Table()) {
		w.standDownAfterSwitch(ctx)
		return
	}
	if unsafe := s.rollbackUnsafe(ctx, w.from); unsafe != "" {
		msg := "guard: breach, rollback unsafe: " + unsafe + " (" + why + ")"
		w.endStep(ctx, store.StepFailed, msg, msg)
		s.audit(ctx, "guard", ActionRollback, w.version, "refused", msg)
		s.log.Error("guard: breach, rollback unsafe", "version", w.version, "why", unsafe, "breach", why)
		w.finish(GuardUnsafe, msg)
		return
	}
	var err error
	if p := s.progressive(); p != nil && p.DeploymentID == w.id {
		err = s.rollbackProgressive(ctx, p, "guard", reason)
	} else {
		err = s.switchLocked(ctx, w.from, "guard", ActionRollback, reason)
	}
	if err != nil {
		msg := fmt.Sprintf("guard: breach, rollback failed: %v (%s)", err, why)
		w.endStep(ctx, store.StepFailed, msg, msg)
		w.finish(GuardUnsafe, msg)
		return
	}
	if err := s.opts.Store.HoldRelease(ctx, w.version, reason); err != nil {
		s.log.Error("guard: hold release", "version", w.version, "err", err)
	}
	w.endStep(ctx, store.StepFailed, reason, reason)
	// Last: whoever waits for the verdict finds production switched back
	// and the record written.
	w.finish(GuardRolledBack, reason)
}

// standDownAfterSwitch ends a watch whose color a person switched away from.
func (w *guardWatch) standDownAfterSwitch(ctx context.Context) {
	msg := "a person switched production away from " + string(w.to)
	w.endStep(ctx, store.StepDone, "stood down: "+msg, "")
	w.finish(GuardStoodDown, msg)
}

// rollbackUnsafe says why switching back to color from would not be the
// instant, correct rollback the button promises, or "" when it would be:
// the color must run its release, healthy, and the schema must still suit
// it (the live release is not finalized past a contract migration).
func (s *Service) rollbackUnsafe(ctx context.Context, from router.Color) string {
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return "cannot read what the colors run: " + err.Error()
	}
	prev := slots[string(from)]
	if prev.Version == "" {
		return fmt.Sprintf("the previous color (%s) runs no release", from)
	}
	inst, ok := s.opts.Driver.Instance(string(from))
	if !ok {
		return fmt.Sprintf("the previous release %s on %s is not running", prev.Version, from)
	}
	pctx, cancel := context.WithTimeout(ctx, s.probeTimeout())
	defer cancel()
	if err := runtime.Probe(pctx, inst.Addr, s.opts.Health); err != nil {
		return fmt.Sprintf("the previous release %s on %s fails its health check: %v", prev.Version, from, err)
	}
	if why := s.rollbackBlocked(ctx, from); why != "" {
		why, _, _ = strings.Cut(why, ". ")
		return why
	}
	return ""
}

// guardGoLive starts the guard on the deployment that a person's go-live
// just made live on color to. The caller holds s.switching.
func (s *Service) guardGoLive(ctx context.Context, to, from router.Color) {
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		s.log.Error("guard: read slots", "err", err)
		return
	}
	d, err := s.opts.Store.Deployment(ctx, slots[string(to)].DeploymentID)
	if err != nil || d.State != store.StateLive {
		return
	}
	s.startGuard(ctx, &d, to, from, s.now())
}

// held returns why auto_go_live must not promote version (the guard rolled
// it back before), or "".
func (s *Service) held(ctx context.Context, version string) string {
	rel, err := s.opts.Store.Release(ctx, version)
	if err != nil || rel.Hold == "" {
		return ""
	}
	return "the guard rolled " + version + " back before (" + strings.TrimPrefix(rel.Hold, "guard: ") + ")"
}

// resumeGuard carries on, after a restart, the watch of a go-live whose
// window had not ended: the live deployment's guard step is still running.
// The counters start again from zero and the baseline is gone, so the rest
// of the window is judged against max_error_rate alone. The caller holds
// s.switching.
func (s *Service) resumeGuard(ctx context.Context) {
	live := s.opts.Router.Table().Live
	d, ok := s.serving(ctx)
	to, from := live, live.Other()
	p := s.progressive()
	if p != nil {
		var err error
		d, err = s.opts.Store.Deployment(ctx, p.DeploymentID)
		ok, to, from = err == nil, p.To, p.From
	}
	if !ok || d.State != store.StateLive || len(d.Steps) == 0 {
		return
	}
	step := d.Steps[len(d.Steps)-1]
	if step.Name != StepGuard || step.EndedAt != nil {
		return
	}
	end := func(msg string) {
		now := s.now()
		d.Steps[len(d.Steps)-1].State, d.Steps[len(d.Steps)-1].Message, d.Steps[len(d.Steps)-1].EndedAt = store.StepDone, msg, &now
		if err := s.record(ctx, &d, ActionGoLive); err != nil {
			s.log.Error("guard: record step", "id", d.ID, "err", err)
		}
	}
	switch {
	case !s.opts.Guard.Enabled() || s.opts.Traffic == nil:
		end("stood down: the guard is off since bascule restarted")
	case p == nil && !s.now().Before(step.StartedAt.Add(s.opts.Guard.Window)):
		end("passed: the window ended while bascule was stopped; no breach was seen before")
	default:
		w := s.newWatch(&d, to, from, step.StartedAt)
		w.baseFrom = s.now() // the baseline before the restart is gone
		if p != nil {
			w.st.EndsAt = time.Time{} // open until the last step
		}
		s.log.Info("guard: resuming after a restart", "version", d.Version, "until", w.st.EndsAt)
		s.runWatch(w)
	}
}
