package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// GoLive switches all production traffic to the idle color, which must run
// a healthy release. It returns a *ConflictError when nothing is ready or
// another deployment or switch is under way.
func (s *Service) GoLive(ctx context.Context, actor, reason string) (Status, error) {
	return s.switchAction(ctx, actor, "go-live", reason, false)
}

// Rollback switches all production traffic back to the other color, which
// still runs the previous release (it is started first if it is not
// running. Like GoLive, it answers a *ConflictError when it cannot, and
// when the live release is finalized (its contract migrations ran), unless
// force is set: the warning is then recorded in the audit log.
func (s *Service) Rollback(ctx context.Context, actor, reason string, force bool) (Status, error) {
	return s.switchAction(ctx, actor, "rollback", reason, force)
}

// switchWait is how long a person's action waits for a switch (or a step
// of a progressive go-live) that holds the switching lock; a deployment
// holds it for minutes, and is answered with a conflict at once.
const switchWait = 3 * time.Second

// lockSwitch takes s.switching for a person's action: at once, or within
// switchWait when what holds it is a switch rather than a deployment.
func (s *Service) lockSwitch(ctx context.Context) bool {
	if s.switching.TryLock() {
		return true
	}
	if _, err := s.opts.Store.ActiveDeployment(ctx, s.opts.App); err == nil {
		return false
	}
	deadline := time.Now().Add(switchWait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
		if s.switching.TryLock() {
			return true
		}
	}
	return false
}

func (s *Service) switchAction(ctx context.Context, actor, action, reason string, force bool) (Status, error) {
	if !s.lockSwitch(ctx) {
		err := s.activeConflict(ctx)
		if ce, ok := err.(*ConflictError); ok && ce.Holder == nil {
			ce.Msg = "another go-live or rollback is in progress: look at `bascule status` and try again"
		}
		s.audit(ctx, actor, action, "", "refused", err.Error())
		return Status{}, err
	}
	defer s.switching.Unlock()
	if p := s.progressive(); p != nil {
		return s.switchDuringProgress(ctx, p, actor, action, reason)
	}
	t := s.opts.Router.Table()
	target := t.Live.Other()
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return Status{}, err
	}
	if action == "go-live" && t.Upstreams[t.Live] != "" && slots[string(t.Live)].Version != "" {
		// The first deployment goes straight to the live color; going live
		// then only confirms it.
		if d, ok := s.readyOn(ctx, slots[string(t.Live)]); ok {
			s.markLive(ctx, d)
			s.audit(ctx, actor, action, d.Version, "ok", reason)
			return s.Status(ctx)
		}
	}
	if slots[string(target)].Version == "" {
		var err error
		if action == "rollback" {
			err = conflict("nothing to roll back to: the %s color runs no release", target)
		} else {
			err = conflict("nothing is ready to go live: the %s color runs no release (deploy one first)", target)
		}
		s.audit(ctx, actor, action, "", "refused", err.Error())
		return Status{}, err
	}
	if why := s.rollbackBlocked(ctx, target); why != "" {
		if !force {
			err := conflict("%s", why)
			s.audit(ctx, actor, action, slots[string(target)].Version, "refused", why)
			return Status{}, err
		}
		reason = "FORCED despite: " + why + ". Reason given: " + reason
	}
	s.stopGuard(fmt.Sprintf("%s by %s", action, actor))
	partial := s.switchReport(ctx, target, actor, action, reason)
	if partial != nil && !incompleteSwitch(partial) {
		return Status{}, partial
	}
	if action == "go-live" {
		s.guardGoLive(ctx, target, t.Live)
	}
	st, err := s.Status(ctx)
	if partial != nil {
		return st, partial
	}
	return st, err
}

// readyOn returns the deployment recorded on slot if it is ready.
func (s *Service) readyOn(ctx context.Context, slot store.Slot) (*store.Deployment, bool) {
	d, err := s.opts.Store.Deployment(ctx, slot.DeploymentID)
	if err != nil || d.State != store.StateReady {
		return nil, false
	}
	return &d, true
}

// switchLocked switches to color and updates the deployments' states. The
// caller holds s.switching. A switch that not every router of a fleet
// confirmed counts as done here; switchReport returns it.
func (s *Service) switchLocked(ctx context.Context, color router.Color, actor, action, reason string) error {
	if err := s.switchReport(ctx, color, actor, action, reason); err != nil && !incompleteSwitch(err) {
		return err
	}
	return nil
}

// switchReport is switchLocked that also returns an incomplete switch's
// error, for the person who asked for it.
func (s *Service) switchReport(ctx context.Context, color router.Color, actor, action, reason string) error {
	before := s.opts.Router.Table()
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return err
	}
	to, from := slots[string(color)], slots[string(before.Live)]
	partial := s.switchTo(ctx, color)
	if partial != nil && !incompleteSwitch(partial) {
		s.audit(ctx, actor, action, to.Version, "failed", partial.Error())
		return partial
	}
	detail := fmt.Sprintf("%s → %s (%s): %s", before.Live, color, from.Version, reason)
	if partial != nil {
		detail += "; " + partial.Error()
	}
	s.audit(ctx, actor, action, to.Version, "ok", detail)
	s.log.Info("switched", "action", action, "to", color, "version", to.Version, "actor", actor)
	if newer, err := s.opts.Store.Deployment(ctx, to.DeploymentID); err == nil && (from.DeploymentID == 0 || to.DeploymentID >= from.DeploymentID) {
		s.markLive(ctx, &newer)
		return partial
	}
	// Going back to an older release: the newer one is rolled back.
	if newer, err := s.opts.Store.Deployment(ctx, from.DeploymentID); err == nil && newer.State == store.StateLive {
		newer.State = store.StateRolledBack
		s.saveDeployment(ctx, &newer)
	}
	return partial
}

func (s *Service) markLive(ctx context.Context, d *store.Deployment) {
	if d.State == store.StateFinalized || d.State == store.StateLive {
		// Going back to a finalized release: it stays finalized, which is
		// what keeps rollback past it refused.
		return
	}
	if d.FinishedAt == nil {
		now := s.now()
		d.FinishedAt = &now
	}
	// Live again after a rollback: why it was rolled back is history, kept
	// in its steps and the audit log.
	d.State, d.Error = store.StateLive, ""
	s.saveDeployment(ctx, d)
}

func (s *Service) saveDeployment(ctx context.Context, d *store.Deployment) {
	d.UpdatedAt = s.now()
	if err := s.opts.Store.UpdateDeployment(context.WithoutCancel(ctx), d); err != nil {
		s.log.Error("persist deployment", "id", d.ID, "err", err)
	}
	s.events.publish(*d)
}

// switchDuringProgress is a go-live or rollback asked for while a
// progressive go-live is in progress: a rollback returns every user to
// the old color; a go-live is refused (promote it instead).
func (s *Service) switchDuringProgress(ctx context.Context, p *Progressive, actor, action, reason string) (Status, error) {
	if action != "rollback" {
		err := progressConflict(p, "promote it to 100% (bascule go-live --promote), or roll back")
		s.audit(ctx, actor, action, p.Version, "refused", err.Error())
		return Status{}, err
	}
	s.stopGuard(fmt.Sprintf("%s by %s", action, actor))
	if err := s.rollbackProgressive(ctx, p, actor, reason); err != nil {
		return Status{}, err
	}
	return s.Status(ctx)
}
