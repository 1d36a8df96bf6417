package deploy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// GoLive switches all production traffic to the idle color, which must run
// a healthy release. It returns a *ConflictError when nothing is ready or
// another deployment or switch is under way.
func (s *Service) GoLive(ctx context.Context, actor, reason string) (Status, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Status{}, err
	}
	return s.switchAction(ctx, actor, ActionGoLive, reason, false)
}

// Rollback switches all production traffic back to the other color, which
// still runs the previous release (it is started first if it is not
// running). Like GoLive, it answers a *ConflictError when it cannot, and
// when the live release is finalized (its contract migrations ran), unless
// force is set: the warning is then recorded in the audit log.
func (s *Service) Rollback(ctx context.Context, actor, reason string, force bool) (Status, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Status{}, err
	}
	return s.switchAction(ctx, actor, ActionRollback, reason, force)
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
	return s.switching.LockWithin(ctx, switchWait)
}

func (s *Service) switchAction(ctx context.Context, actor string, action Action, reason string, force bool) (Status, error) {
	if !s.lockSwitch(ctx) {
		return Status{}, s.busy(ctx, actor, action)
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
	if action == ActionGoLive && t.Upstreams[t.Live] != "" && slots[string(t.Live)].Version != "" {
		// The first deployment goes straight to the live color; going live
		// then only confirms it.
		// Unless a newer release is ready, or rolled back, on the other
		// color: going live means the newest, and one release is live at
		// a time.
		if d, ok := s.readyOn(ctx, slots[string(t.Live)]); ok && !s.newerOn(ctx, slots[string(target)], d.ID, store.StateReady, store.StateRolledBack) {
			if err := s.markLive(ctx, d); err != nil {
				return Status{}, err
			}
			s.audit(ctx, actor, action, d.Version, "ok", reason)
			return s.Status(ctx)
		}
	}
	if slots[string(target)].Version == "" {
		var err error
		if action == ActionRollback {
			err = conflict("nothing to roll back to: the %s color runs no release", target)
		} else {
			err = conflict("nothing is ready to go live: the %s color runs no release (deploy one first)", target)
		}
		s.audit(ctx, actor, action, "", "refused", err.Error())
		return Status{}, err
	}
	if live := slots[string(t.Live)]; action == ActionGoLive && live.Version != "" && slots[string(target)].DeploymentID < live.DeploymentID {
		err := conflict("the %s color holds %s, older than the live release %s: "+
			"that is a rollback, not a go-live", target, slots[string(target)].Version, live.Version)
		s.audit(ctx, actor, action, slots[string(target)].Version, "refused", err.Error())
		return Status{}, err
	}
	if action == ActionRollback && s.newerOn(ctx, slots[string(target)], slots[string(t.Live)].DeploymentID, store.StateReady) {
		err := conflict("the %s color holds %s, newer than the live release and never live: "+
			"that is a go-live, not a rollback", target, slots[string(target)].Version)
		s.audit(ctx, actor, action, slots[string(target)].Version, "refused", err.Error())
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
	if action == ActionGoLive {
		s.guardGoLive(ctx, target, t.Live)
	}
	st, err := s.Status(ctx)
	if partial != nil {
		return st, partial
	}
	return st, err
}

// busy is the conflict for an action that found the switching lock taken.
func (s *Service) busy(ctx context.Context, actor string, action Action) error {
	err := s.activeConflict(ctx)
	if ce, ok := err.(*ConflictError); ok && ce.Holder == nil {
		ce.Msg = "another go-live or rollback is in progress: look at `bascule status` and try again"
	}
	s.audit(ctx, actor, action, "", "refused", err.Error())
	return err
}

// newerOn reports whether slot holds a release deployed after the
// deployment than, in one of states.
func (s *Service) newerOn(ctx context.Context, slot store.Slot, than int64, states ...store.State) bool {
	d, err := s.opts.Store.Deployment(ctx, slot.DeploymentID)
	return err == nil && d.ID > than && slices.Contains(states, d.State)
}

// readyOn returns the deployment recorded on slot if it is ready.
func (s *Service) readyOn(ctx context.Context, slot store.Slot) (*store.Deployment, bool) {
	d, err := s.opts.Store.Deployment(ctx, slot.DeploymentID)
	if err != nil || d.State != store.StateReady {
		return nil, false
	}
	return &d, true
}

// switchLocked switches production to color and moves the deployment the
// switch concerns (see switchReport). A switch that not every router of a
// fleet confirmed counts as done here. The caller holds s.switching.
func (s *Service) switchLocked(ctx context.Context, color router.Color, actor string, action Action, reason string) error {
	if err := s.switchReport(ctx, color, actor, action, reason); err != nil && !incompleteSwitch(err) {
		return err
	}
	return nil
}

// switchReport switches production to color and moves the deployment the
// switch concerns: the newer release on color goes live, or, going back to
// an older one, the newer release that was live is rolled back. The move
// is checked before production moves and recorded after. It returns an
// incomplete switch's error too, for the person who asked for it: not
// every router of a fleet confirmed, but production did switch.
func (s *Service) switchReport(ctx context.Context, color router.Color, actor string, action Action, reason string) error {
	before := s.opts.Router.Table()
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return err
	}
	to, from := slots[string(color)], slots[string(before.Live)]
	mv, err := s.switchMove(ctx, to, from)
	if err != nil {
		s.audit(ctx, actor, action, to.Version, "refused", err.Error())
		return err
	}
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
	if mv != nil {
		s.moveOrLog(ctx, &mv.d, mv.by, mv.to)
	}
	return partial
}

// switchMove is the deployment a switch moves, and where.
type switchMove struct {
	d  store.Deployment
	by Action
	to store.State
}

// switchMove returns what a switch from the release on slot from to the
// one on slot to does to their deployments (nil: nothing), or why the
// state machine refuses it.
func (s *Service) switchMove(ctx context.Context, to, from store.Slot) (*switchMove, error) {
	if d, err := s.opts.Store.Deployment(ctx, to.DeploymentID); err == nil && (from.DeploymentID == 0 || to.DeploymentID >= from.DeploymentID) {
		if d.State == store.StateLive || d.State == store.StateFinalized {
			// Going back to a finalized release: it stays finalized, which
			// is what keeps rollback past it refused.
			return nil, nil
		}
		if !Allowed(d.State, store.StateLive, ActionGoLive) {
			return nil, conflict("%s on %s is %s: it cannot go live (deploy it again)", d.Version, d.Color, d.State)
		}
		// One release is live at a time, and a live one leaves that state
		// only by finalize or rollback: never replace it unfinalized.
		if prev, err := s.opts.Store.Deployment(ctx, from.DeploymentID); err == nil && prev.ID != d.ID && prev.State == store.StateLive {
			return nil, conflict("%s is live and not finalized: finalize it (bascule finalize) before %s goes live", prev.Version, d.Version)
		}
		liveFields(&d)
		return &switchMove{d: d, by: ActionGoLive, to: store.StateLive}, nil
	}
	// Going back to an older release: the newer one is rolled back.
	if d, err := s.opts.Store.Deployment(ctx, from.DeploymentID); err == nil && d.State == store.StateLive {
		return &switchMove{d: d, by: ActionRollback, to: store.StateRolledBack}, nil
	}
	return nil, nil
}

// markLive records d live (a ready or rolled back release that production
// now runs); a live or finalized d stays as it is.
func (s *Service) markLive(ctx context.Context, d *store.Deployment) error {
	if d.State == store.StateFinalized || d.State == store.StateLive {
		return nil
	}
	liveFields(d)
	return s.move(ctx, d, ActionGoLive, store.StateLive)
}

// liveFields sets what a deployment going live records besides its state.
func liveFields(d *store.Deployment) {
	if d.FinishedAt == nil {
		now := time.Now().UTC()
		d.FinishedAt = &now
	}
	// Live again after a rollback: why it was rolled back is history, kept
	// in its steps and the audit log.
	d.Error = ""
}

// switchTo makes color live: its release running and healthy (started if
// needed), the new table routed (persisted, then installed). It returns
// once the old color has no request in flight (up to the drain timeout),
// so whoever stops the old color afterwards cuts nothing.
func (s *Service) switchTo(ctx context.Context, color router.Color) error {
	addr, err := s.ensureRunning(ctx, color)
	if err != nil {
		return err
	}
	t := s.opts.Router.Table()
	old := t.Upstreams[t.Live]
	if t.Live == color && t.Upstreams[color] == addr && t.Split == nil {
		return nil
	}
	// The new table has no split: a switch ends a progressive go-live.
	next := tidy(t)
	next.Live, next.Split = color, nil
	next.Upstreams[color] = addr
	if err := s.route(ctx, next); err != nil {
		return fmt.Errorf("switch to %s: %w", color, err)
	}
	if old != "" && old != addr {
		return s.drainRequests(ctx, old)
	}
	return nil
}

// drainRequests waits until no request is in flight to addr, the color
// production left, up to the drain timeout. That color keeps running:
// nothing is cut. Upgraded connections (WebSockets) are not waited for:
// they may last for hours and stay connected to the old color; they are
// closed when that color is replaced, after its drain timeout. With a
// fleet of routers, it returns the incomplete switch's error when a router
// did not confirm that it installed the switch and drained; anything else
// is logged.
func (s *Service) drainRequests(ctx context.Context, addr string) error {
	dctx, cancel := context.WithTimeout(ctx, s.opts.DrainTimeout)
	defer cancel()
	err := s.opts.Router.DrainRequests(dctx, addr)
	switch {
	case incompleteSwitch(err):
		return err
	case err != nil && ctx.Err() == nil:
		s.log.Warn("requests still in flight on the old color after the drain timeout", "addr", addr)
	}
	return nil
}

// switchDuringProgress is a go-live or rollback asked for while a
// progressive go-live is in progress: a rollback returns every user to
// the old color; a go-live is refused (promote it instead).
func (s *Service) switchDuringProgress(ctx context.Context, p *Progressive, actor string, action Action, reason string) (Status, error) {
	if action != ActionRollback {
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
