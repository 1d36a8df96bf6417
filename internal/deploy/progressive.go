package deploy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// Progressive is a progressive go-live in progress: a growing, sticky
// share of users on the new release, step by step. It is persisted in
// the store at every change, beside the routing table that holds the
// split itself, so that a restart, or a new leader, carries on where it
// was (docs/adr/0019-progressive-go-live-in-the-store.md).
type Progressive struct {
	DeploymentID int64        `json:"deployment_id"`
	Version      string       `json:"version"`
	From         router.Color `json:"from"` // live until the last step; the rollback target
	To           router.Color `json:"to"`
	// Steps are the shares of users on To, in percent, ascending; the
	// last is 100. Step is the index of the current one.
	Steps    []int         `json:"steps"`
	Step     int           `json:"step"`
	Interval time.Duration `json:"interval_ns"`
	StepAt   time.Time     `json:"step_at"`           // when the current step began
	NextAt   time.Time     `json:"next_at,omitzero"`  // when the next begins; zero while paused
	Paused   bool          `json:"paused"`            //
	Left     time.Duration `json:"left_ns,omitempty"` // of the step, when it was paused
	Salt     string        `json:"salt"`              // the split's bucketing salt: the cohorts of this go-live
	Actor    string        `json:"actor"`             // who started it
	Reason   string        `json:"reason,omitempty"`  //
	Percent  int           `json:"percent"`           // Steps[Step], for readers
	StartAt  time.Time     `json:"started_at"`        //
	Note     string        `json:"note,omitempty"`    // the last change, in words
	Resumed  bool          `json:"resumed,omitempty"` // carried on after a restart
}

// InputError is a request that cannot be right (steps out of order, say);
// the API answers 400.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// MinInterval is the shortest time a step of a progressive go-live may
// last: the guard needs traffic to judge it.
const MinInterval = time.Second

// ParseSteps parses "1,10,50,100": percentages of users on the new
// release, ascending, each 1 to 100, the last 100.
func ParseSteps(s string) ([]int, error) {
	var steps []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), "%")))
		if err != nil {
			return nil, fmt.Errorf("steps %q: %q is not a whole percentage", s, part)
		}
		steps = append(steps, n)
	}
	return steps, CheckSteps(steps)
}

// CheckSteps checks the steps of a progressive go-live (see ParseSteps).
func CheckSteps(steps []int) error {
	if len(steps) == 0 {
		return errors.New("steps: give at least one, e.g. 1,10,50,100")
	}
	for i, n := range steps {
		switch {
		case n < 1 || n > 100:
			return fmt.Errorf("steps: %d is not a percentage from 1 to 100", n)
		case i > 0 && n <= steps[i-1]:
			return fmt.Errorf("steps: %d after %d; each step must send more users than the one before", n, steps[i-1])
		}
	}
	if steps[len(steps)-1] != 100 {
		return fmt.Errorf("steps: the last step must be 100 (everyone), got %d", steps[len(steps)-1])
	}
	return nil
}

// weight is the split's weight, in buckets, for a percentage.
func weight(percent int) uint32 { return uint32(percent) * router.Buckets / 100 }

// progressive returns a copy of the progressive go-live in progress, if any.
func (s *Service) progressive() *Progressive {
	s.progMu.Lock()
	defer s.progMu.Unlock()
	if s.prog == nil {
		return nil
	}
	p := *s.prog
	p.Steps = append([]int(nil), s.prog.Steps...)
	return &p
}

// setProgressive records p (nil: none) and wakes its runner.
func (s *Service) setProgressive(p *Progressive) {
	s.progMu.Lock()
	s.prog = p
	s.progMu.Unlock()
	select {
	case s.progWake <- struct{}{}:
	default:
	}
}

// progressConflict is the error for an action that a progressive go-live
// in progress rules out.
func progressConflict(p *Progressive, what string) error {
	return conflict("a progressive go-live of %s is in progress (%d%% of users on %s): %s", p.Version, p.Percent, p.To, what)
}

// GoLiveProgressive sends a growing, sticky share of users to the idle
// color's ready release: steps[0] percent at once, the next step after
// each interval, guarded throughout; the last step (100) is the switch.
// It returns a *ConflictError when nothing is ready, the steps or interval
// are wrong, or another deployment, switch or progressive go-live is under
// way.
func (s *Service) GoLiveProgressive(ctx context.Context, actor, reason string, steps []int, interval time.Duration) (Status, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Status{}, err
	}
	if err := CheckSteps(steps); err != nil {
		return Status{}, &InputError{Msg: err.Error()}
	}
	if interval < MinInterval {
		return Status{}, &InputError{Msg: fmt.Sprintf("interval %s: each step must last at least %s", interval, MinInterval)}
	}
	if !s.lockSwitch(ctx) {
		return Status{}, s.busy(ctx, actor, ActionGoLive)
	}
	defer s.switching.Unlock()
	if err := s.startProgressive(ctx, actor, reason, steps, interval); err != nil {
		s.audit(ctx, actor, ActionGoLive, "", "refused", err.Error())
		return Status{}, err
	}
	return s.Status(ctx)
}

func (s *Service) startProgressive(ctx context.Context, actor, reason string, steps []int, interval time.Duration) error {
	if p := s.progressive(); p != nil {
		return progressConflict(p, "promote it, or roll back, first")
	}
	t := s.opts.Router.Table()
	from, to := t.Live, t.Live.Other()
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return err
	}
	if t.Upstreams[from] == "" || slots[string(from)].Version == "" {
		return conflict("nothing is live yet: the first release goes live at once (bascule go-live, without steps)")
	}
	// Ready, or rolled back before: go-live and rollback alternate while
	// both colors run, step by step too.
	d, err := s.opts.Store.Deployment(ctx, slots[string(to)].DeploymentID)
	if err != nil || slots[string(to)].Version == "" || (d.State != store.StateReady && d.State != store.StateRolledBack) {
		return conflict("nothing is ready to go live on %s (deploy a release first)", to)
	}
	s.stopGuard("go-live by " + actor)
	addr, err := s.ensureRunning(ctx, to)
	if err != nil {
		return err
	}
	now := s.now()
	p := &Progressive{DeploymentID: d.ID, Version: d.Version, From: from, To: to, Steps: steps, Interval: interval,
		StepAt: now, NextAt: now.Add(interval), Salt: fmt.Sprintf("deployment-%d", d.ID), Actor: actor, Reason: reason,
		Percent: steps[0], StartAt: now}
	if steps[0] == 100 {
		p.NextAt = now // one step: the switch, at once
	}
	if err := s.applyStep(ctx, p, addr); err != nil {
		return err
	}
	if err := s.markLive(ctx, &d); err != nil {
		return err
	}
	d.Steps = append(d.Steps, store.Step{Name: StepGoLive, State: store.StepRunning, StartedAt: now, Message: p.describe()})
	if err := s.record(ctx, &d, ActionGoLive); err != nil {
		s.log.Error("progressive go-live: record step", "id", d.ID, "err", err)
	}
	s.audit(ctx, actor, ActionGoLive, d.Version, "ok", fmt.Sprintf("progressive, steps %s every %s, %s: %s",
		joinSteps(steps), interval, p.describe(), reason))
	s.startGuard(ctx, &d, to, from, now)
	if w := s.watchOf(d.ID); w != nil && p.Percent < 100 {
		w.extend(time.Time{}) // open until the last step
	}
	s.setProgressive(p)
	s.runProgress(p.DeploymentID)
	return nil
}

// applyStep persists p, then routes the table with p's split (persisted,
// then installed): a crash in between restarts on what was asked.
func (s *Service) applyStep(ctx context.Context, p *Progressive, addr string) error {
	if err := s.saveProgress(ctx, p); err != nil {
		return err
	}
	next := tidy(s.opts.Router.Table())
	next.Split = &router.Split{To: p.To, Weight: weight(p.Percent), Salt: p.Salt}
	if addr != "" {
		next.Upstreams[p.To] = addr
	}
	if err := s.route(ctx, next); err != nil {
		return fmt.Errorf("send %d%% of users to %s: %w", p.Percent, p.To, err)
	}
	s.log.Info("progressive go-live step", "version", p.Version, "percent", p.Percent, "step", p.Step+1, "of", len(p.Steps))
	return nil
}

// describe says where p stands, in words.
func (p *Progressive) describe() string {
	msg := fmt.Sprintf("%d%% of users on %s (step %d of %d: %s, every %s)", p.Percent, p.To, p.Step+1, len(p.Steps), joinSteps(p.Steps), p.Interval)
	if p.Paused {
		msg += ", paused"
	}
	return msg
}

func joinSteps(steps []int) string {
	parts := make([]string, len(steps))
	for i, n := range steps {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// runProgress starts the goroutine that moves deployment id's progressive
// go-live to its next step when the time comes.
func (s *Service) runProgress(id int64) {
	s.spawn(func(ctx context.Context) {
		for {
			p := s.progressive()
			if p == nil || p.DeploymentID != id {
				return
			}
			var due <-chan time.Time
			if !p.Paused {
				t := time.NewTimer(time.Until(p.NextAt))
				defer t.Stop()
				due = t.C
			}
			select {
			case <-ctx.Done():
				return
			case <-s.progWake:
			case <-due:
				s.advance(ctx, id, "bascule", "", false)
			}
		}
	})
}

// advance moves the progressive go-live of deployment id to its next step,
// or to 100 % when promote is set. It waits for the switching lock: a
// person's action finishes first.
func (s *Service) advance(ctx context.Context, id int64, actor, reason string, promote bool) {
	s.switching.Lock()
	defer s.switching.Unlock()
	p := s.progressive()
	if p == nil || p.DeploymentID != id || (!promote && (p.Paused || s.now().Before(p.NextAt))) {
		return // rolled back, finished, paused or promoted meanwhile
	}
	if err := s.advanceLocked(ctx, p, actor, reason, promote); err != nil {
		s.log.Error("progressive go-live: next step", "version", p.Version, "err", err)
		s.audit(ctx, actor, ActionGoLive, p.Version, "failed", err.Error())
	}
}

// advanceLocked takes p one step further (to the last with promote). The
// caller holds s.switching.
func (s *Service) advanceLocked(ctx context.Context, p *Progressive, actor, reason string, promote bool) error {
	p.Step++
	if promote {
		p.Step = len(p.Steps) - 1
	}
	now := s.now()
	p.Percent, p.StepAt, p.NextAt, p.Paused, p.Left = p.Steps[p.Step], now, now.Add(p.Interval), false, 0
	if p.Percent == 100 {
		return s.completeProgressive(ctx, p, actor, reason, promote)
	}
	if err := s.applyStep(ctx, p, ""); err != nil {
		return err
	}
	s.setProgressive(p)
	s.progressStep(ctx, p, store.StepRunning, p.describe(), "")
	s.audit(ctx, actor, ActionGoLive, p.Version, "ok", p.describe())
	return nil
}

// completeProgressive is the last step: all of production on To, the
// split over, the old color drained as after any switch. The guard keeps
// watching for its window from now.
func (s *Service) completeProgressive(ctx context.Context, p *Progressive, actor, reason string, promote bool) error {
	// As any switch: persisted first, then installed; it returns once
	// nothing is in flight on the old color.
	if err := s.switchTo(ctx, p.To); err != nil && !incompleteSwitch(err) {
		return err
	}
	defer s.setProgressive(nil) // last: whoever waits for the end finds it recorded
	s.removeProgress(ctx)
	msg := "all production traffic on " + string(p.To)
	if promote {
		msg += fmt.Sprintf(", promoted by %s at step %d of %d", actor, p.Step+1, len(p.Steps))
	}
	s.progressStep(ctx, p, store.StepDone, msg, "")
	detail := msg
	if reason != "" {
		detail += ": " + reason
	}
	action := ActionGoLive
	if promote {
		action = ActionPromote
	}
	s.audit(ctx, actor, action, p.Version, "ok", detail)
	if w := s.watchOf(p.DeploymentID); w != nil {
		w.extend(s.now().Add(s.opts.Guard.Window))
	}
	return nil
}

// progressStep updates the deployment's go-live step: its message, and its
// end unless state is running; errMsg, if set, becomes the deployment's
// error.
func (s *Service) progressStep(ctx context.Context, p *Progressive, state, msg, errMsg string) {
	d, err := s.opts.Store.Deployment(ctx, p.DeploymentID)
	if err != nil {
		s.log.Error("progressive go-live: read deployment", "id", p.DeploymentID, "err", err)
		return
	}
	for i := range d.Steps {
		if st := &d.Steps[i]; st.Name == StepGoLive && st.EndedAt == nil {
			st.Message = msg
			if state != store.StepRunning {
				now := s.now()
				st.State, st.EndedAt = state, &now
			}
		}
	}
	if errMsg != "" {
		d.Error = errMsg
	}
	if err := s.record(ctx, &d, ActionGoLive); err != nil {
		s.log.Error("progressive go-live: record step", "id", p.DeploymentID, "err", err)
	}
}

// rollbackProgressive returns every user to From at once: the split ends,
// requests in flight on To finish there, and the deployment is rolled
// back. The caller holds s.switching.
func (s *Service) rollbackProgressive(ctx context.Context, p *Progressive, actor, reason string) error {
	old := s.opts.Router.Table().Upstreams[p.To]
	if err := s.switchTo(ctx, p.From); err != nil && !incompleteSwitch(err) {
		s.audit(ctx, actor, ActionRollback, p.Version, "failed", err.Error())
		return err
	}
	defer s.setProgressive(nil) // last: whoever waits for the end finds it recorded
	s.removeProgress(ctx)
	if old != "" {
		s.drainRequests(ctx, old)
	}
	msg := fmt.Sprintf("rolled back at %d%% by %s", p.Percent, actor)
	errMsg := ""
	if actor == "guard" {
		msg, errMsg = reason, reason
	} else if reason != "" {
		msg += ": " + reason
	}
	s.progressStep(ctx, p, store.StepFailed, msg, errMsg)
	if d, err := s.opts.Store.Deployment(ctx, p.DeploymentID); err == nil && d.State == store.StateLive {
		s.moveOrLog(ctx, &d, ActionRollback, store.StateRolledBack)
	}
	s.audit(ctx, actor, ActionRollback, p.Version, "ok", fmt.Sprintf("%s → %s at %d%% (%s): %s", p.To, p.From, p.Percent, p.Version, reason))
	s.log.Info("progressive go-live rolled back", "version", p.Version, "percent", p.Percent, "actor", actor)
	return nil
}

// Promote takes the progressive go-live in progress to 100 % at once.
func (s *Service) Promote(ctx context.Context, actor, reason string) (Status, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Status{}, err
	}
	return s.progressAction(ctx, actor, ActionPromote, func(p *Progressive) error {
		return s.advanceLocked(ctx, p, actor, reason, true)
	})
}

// Pause holds the progressive go-live in progress at its current step.
func (s *Service) Pause(ctx context.Context, actor, reason string) (Status, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Status{}, err
	}
	return s.progressAction(ctx, actor, ActionPause, func(p *Progressive) error {
		if p.Paused {
			return conflict("the go-live of %s is already paused at %d%%", p.Version, p.Percent)
		}
		p.Paused, p.Left, p.NextAt = true, max(0, p.NextAt.Sub(s.now())), time.Time{}
		return s.saveProgressStep(ctx, p, actor, ActionPause, reason)
	})
}

// Resume lets a paused progressive go-live carry on: the step ends after
// what was left of it when it was paused.
func (s *Service) Resume(ctx context.Context, actor, reason string) (Status, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Status{}, err
	}
	return s.progressAction(ctx, actor, ActionResume, func(p *Progressive) error {
		if !p.Paused {
			return conflict("the go-live of %s is not paused", p.Version)
		}
		p.Paused, p.NextAt, p.Left = false, s.now().Add(p.Left), 0
		return s.saveProgressStep(ctx, p, actor, ActionResume, reason)
	})
}

func (s *Service) saveProgressStep(ctx context.Context, p *Progressive, actor string, action Action, reason string) error {
	if err := s.saveProgress(ctx, p); err != nil {
		return err
	}
	s.setProgressive(p)
	s.progressStep(ctx, p, store.StepRunning, p.describe(), "")
	s.audit(ctx, actor, action, p.Version, "ok", p.describe()+": "+reason)
	return nil
}

// progressAction runs do on the progressive go-live in progress, under
// the switching lock.
func (s *Service) progressAction(ctx context.Context, actor string, action Action, do func(p *Progressive) error) (Status, error) {
	if !s.lockSwitch(ctx) {
		return Status{}, s.busy(ctx, actor, action)
	}
	defer s.switching.Unlock()
	p := s.progressive()
	if p == nil {
		err := conflict("no progressive go-live is in progress")
		s.audit(ctx, actor, action, "", "refused", err.Error())
		return Status{}, err
	}
	if err := do(p); err != nil {
		s.audit(ctx, actor, action, p.Version, "refused", err.Error())
		return Status{}, err
	}
	return s.Status(ctx)
}
