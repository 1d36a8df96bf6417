package deploy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// Traffic is what the guard reads of the routers' per-color counters:
// counts now, and as of a past moment. guard.Meter provides it for one
// router; fleet.Traffic, which bascule serve uses, for every router.
type Traffic interface {
	Read(color string) guard.Counts
	At(color string, t time.Time) guard.Counts
}

// StepGuard is the step a guarded go-live adds to its deployment: running
// while the guard watches, done when the release passed, failed on a
// breach.
const StepGuard = "guard"

// Guard states, in GuardStatus.State.
const (
	GuardWatching   = "watching"
	GuardPassed     = "passed"
	GuardRolledBack = "rolled_back"
	GuardUnsafe     = "breach_unsafe" // a breach the guard could not roll back
	GuardStoodDown  = "stood_down"    // finalized, switched by a person, or superseded
)

// Figures of the guard's watch that are not configuration.
const (
	// guardTick is how often the guard judges the counts by default.
	guardTick = 50 * time.Millisecond
	// healthFailures is how many health checks in a row must fail for the
	// guard to roll back: one lost probe is not an outage.
	healthFailures = 3
	// maxBaseline bounds how far before the switch the baseline reaches;
	// the server's meter keeps that much.
	maxBaseline = 10 * time.Minute
	minBaseline = time.Minute
)

// BaselineSpan is how long before a go-live the previous color's traffic
// counts as the guard's baseline, for a guard window of w: the window
// itself, within 1 and 10 minutes. A Traffic must keep that much past.
func BaselineSpan(w time.Duration) time.Duration { return min(max(w, minBaseline), maxBaseline) }

// GuardStatus is what the guard sees of the release it watches (or last
// watched): the window, the counts, and the verdict.
type GuardStatus struct {
	DeploymentID int64     `json:"deployment_id"`
	Version      string    `json:"version"`
	Color        string    `json:"color"` // the color watched
	From         string    `json:"from"`  // the baseline's color, the rollback target
	State        string    `json:"state"` // GuardWatching, GuardPassed, …
	Reason       string    `json:"reason,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	EndsAt       time.Time `json:"ends_at"`
	// LeftSeconds is how much of the window is left, while watching.
	LeftSeconds float64 `json:"left_seconds"`

	MaxErrorRate      float64       `json:"max_error_rate"`
	MinRequests       int           `json:"min_requests"`
	Requests          uint64        `json:"requests"`
	Errors            uint64        `json:"errors"`
	ErrorRate         float64       `json:"error_rate"`
	BaselineRequests  uint64        `json:"baseline_requests"`
	BaselineErrorRate float64       `json:"baseline_error_rate"`
	P99               time.Duration `json:"p99_ns"`
	BaselineP99       time.Duration `json:"baseline_p99_ns"`
}

// Final reports whether the guard is done with this release.
func (g GuardStatus) Final() bool { return g.State != GuardWatching }

// GoLiveState is the state of the last go-live: what the guard sees of
// the release it watches, or how its last watch ended (nil when it never
// watched one), and the progressive go-live in progress, if any.
type GoLiveState struct {
	Guard       *GuardStatus `json:"guard"`
	Progressive *Progressive `json:"progressive"`
}

// GoLiveState returns the state of the last go-live. It probes nothing,
// so it is cheap to poll. A new leader answers once its recovery has taken
// over the go-live and the guard's watch the last leader left (until then
// it would answer that none runs, and bascule go-live --watch would stop
// watching); an instance that does not lead answers the go-live in
// progress from the store, and nothing of the guard, which runs on the
// leader (the API forwards this read to the leader).
func (s *Service) GoLiveState(ctx context.Context) (GoLiveState, error) {
	s.termMu.Lock()
	t := s.term
	s.termMu.Unlock()
	if t == nil {
		p, err := s.storedProgress(ctx)
		return GoLiveState{Progressive: p}, err
	}
	select {
	case <-t.ready:
	case <-t.done:
	case <-ctx.Done():
		return GoLiveState{}, ctx.Err()
	}
	out := GoLiveState{Progressive: s.progressive()}
	if g, ok := s.GuardStatus(); ok {
		out.Guard = &g
	}
	return out, nil
}

// guardWatch is one running watch of a go-live.
type guardWatch struct {
	s         *Service
	id        int64
	version   string
	to, from  router.Color
	baseFrom  time.Time // start of the baseline interval
	start     guard.Counts
	judge     *guard.Judge
	exited    <-chan struct{}
	addr      string // of the watched color, for health checks
	cancel    context.CancelFunc
	done      chan struct{}
	standDown string // why it was stopped, set before cancel

	mu sync.Mutex
	st GuardStatus
}

// GuardStatus returns the guard's view of the release it watches, or of
// the last one it watched; ok is false when it never watched one.
func (s *Service) GuardStatus() (GuardStatus, bool) {
	s.guardMu.Lock()
	w, last := s.watch, s.lastGuard
	s.guardMu.Unlock()
	if w != nil {
		return w.status(), true
	}
	if last != nil {
		return *last, true
	}
	return GuardStatus{}, false
}

// startGuard begins watching d, which just went live on color to, against
// the previous live color from. started is when it went live. With the
// guard off or no counters, it does nothing. The caller holds s.switching.
func (s *Service) startGuard(ctx context.Context, d *store.Deployment, to, from router.Color, started time.Time) {
	cfg := s.opts.Guard
	if !cfg.Enabled() || s.opts.Traffic == nil {
		return
	}
	s.stopGuard("superseded by the go-live of " + d.Version)
	w := s.newWatch(d, to, from, started)
	d.Steps = append(d.Steps, store.Step{Name: StepGuard, State: store.StepRunning, StartedAt: started,
		Message: fmt.Sprintf("watching %s for %s: error rate limit %s", to, cfg.Window, guard.Percent(cfg.MaxErrorRate))})
	if err := s.record(ctx, d, ActionGoLive); err != nil {
		s.log.Error("guard: record step", "id", d.ID, "err", err)
	}
	s.runWatch(w)
}

func (s *Service) newWatch(d *store.Deployment, to, from router.Color, started time.Time) *guardWatch {
	cfg := s.opts.Guard
	w := &guardWatch{s: s, id: d.ID, version: d.Version, to: to, from: from,
		baseFrom: started.Add(-BaselineSpan(cfg.Window)),
		start:    s.opts.Traffic.Read(string(to)), judge: guard.NewJudge(cfg),
		exited: s.opts.Driver.Exited(string(to)), addr: s.opts.Router.Table().Upstreams[to], done: make(chan struct{})}
	w.st = GuardStatus{DeploymentID: d.ID, Version: d.Version, Color: string(to), From: string(from), State: GuardWatching,
		StartedAt: started, EndsAt: started.Add(cfg.Window), MaxErrorRate: cfg.MaxErrorRate, MinRequests: cfg.MinRequests}
	base := w.baseline() // shown from the start
	w.st.BaselineRequests, w.st.BaselineErrorRate, w.st.BaselineP99 = base.Requests, base.ErrorRate(), base.Quantile(0.99)
	return w
}

// runWatch starts w's goroutine and makes it the running watch. When
// the Service does not lead, nothing runs: the step stays running in the
// store, for the next leader to resume, as when bascule stops.
func (s *Service) runWatch(w *guardWatch) {
	started := make(chan struct{})
	cancel, ok := s.spawn(func(ctx context.Context) {
		defer close(w.done)
		<-started // w.cancel and s.watch are set
		w.run(ctx)
	})
	if !ok {
		close(w.done)
		return
	}
	w.cancel = cancel
	s.guardMu.Lock()
	s.watch = w
	s.guardMu.Unlock()
	s.log.Info("guard watching", "version", w.version, "color", w.to, "until", w.st.EndsAt)
	close(started)
}

// stopGuard stands the running watch down (finalize, a person's switch, a
// new go-live) and waits for it to end; why is recorded in its deployment,
// so a caller holding a copy of that deployment must read it again. It
// reports whether a watch was running.
func (s *Service) stopGuard(why string) bool {
	s.guardMu.Lock()
	w := s.watch
	s.guardMu.Unlock()
	if w == nil {
		return false
	}
	w.mu.Lock()
	w.standDown = why
	w.mu.Unlock()
	w.cancel()
	<-w.done
	return true
}

// run judges the counts every tick until the window ends, a breach, or ctx.
func (w *guardWatch) run(ctx context.Context) {
	s := w.s
	tick := time.NewTicker(s.guardTick())
	defer tick.Stop()
	health := time.NewTicker(max(s.opts.Health.Interval, 100*time.Millisecond))
	defer health.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			w.cancelled(ctx)
			return
		case <-w.exited:
			w.exited = nil
			w.breach(ctx, "the live release's process exited during the guard window")
			return
		case <-health.C:
			err := w.probe(ctx)
			if err == nil {
				failures = 0
				continue
			}
			if failures++; failures >= healthFailures && ctx.Err() == nil {
				w.breach(ctx, fmt.Sprintf("the live release failed its health check %d times in a row: %v", failures, err))
				return
			}
		case now := <-tick.C:
			v := w.judge.Update(s.opts.Traffic.Read(string(w.to)).Sub(w.start), w.baseline())
			w.record(v, now)
			if v.Breach {
				w.breach(ctx, v.Reason)
				return
			}
			if end := w.endsAt(); !end.IsZero() && !now.Before(end) {
				w.pass(ctx, v)
				return
			}
		}
	}
}

// baseline is the previous color's traffic from the baseline's start
// until now: the minutes before the switch, and whatever it still serves.
func (w *guardWatch) baseline() guard.Counts {
	t := w.s.opts.Traffic
	return t.Read(string(w.from)).Sub(t.At(string(w.from), w.baseFrom))
}

// probe checks the new color's health: healthy when any of its instances
// is. One instance down is the router's to eject; the color failing is the
// guard's to roll back.
func (w *guardWatch) probe(ctx context.Context) error {
	if w.addr == "" {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, w.s.probeTimeout())
	defer cancel()
	err := fmt.Errorf("%s has no ready instance", w.to)
	for _, a := range w.s.probeAddrs(w.to, w.addr) {
		if err = runtime.Probe(pctx, a, w.s.opts.Health); err == nil {
			return nil
		}
	}
	return err
}

func (w *guardWatch) record(v guard.Verdict, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := &w.st
	st.Requests, st.Errors, st.ErrorRate = v.Requests, v.Errors, v.ErrorRate
	st.BaselineRequests, st.BaselineErrorRate = v.BaselineRequests, v.BaselineErrorRate
	st.P99, st.BaselineP99 = v.P99, v.BaselineP99
	if !st.EndsAt.IsZero() {
		st.LeftSeconds = max(0, st.EndsAt.Sub(now).Seconds())
	}
}

func (w *guardWatch) status() GuardStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.st
	if st.State == GuardWatching && !st.EndsAt.IsZero() {
		st.LeftSeconds = max(0, time.Until(st.EndsAt).Seconds())
	}
	return st
}

// endsAt is when the window ends; zero while a progressive go-live is in
// progress, which the guard watches to its end and a window beyond.
func (w *guardWatch) endsAt() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st.EndsAt
}

// extend sets when the window ends (zero: open).
func (w *guardWatch) extend(end time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.EndsAt = end
	if end.IsZero() {
		w.st.LeftSeconds = 0
	}
}

// serving reports whether the table still sends users to the watched
// color: it is live, or a progressive go-live's split sends them there.
func (w *guardWatch) serving(t router.Table) bool {
	return t.Live == w.to || (t.Split != nil && t.Split.To == w.to)
}

// watchOf returns the running watch of deployment id, if any.
func (s *Service) watchOf(id int64) *guardWatch {
	s.guardMu.Lock()
	defer s.guardMu.Unlock()
	if s.watch != nil && s.watch.id == id {
		return s.watch
	}
	return nil
}

// finish records the watch's end and makes its status the last one.
func (w *guardWatch) finish(state, reason string) GuardStatus {
	w.mu.Lock()
	w.st.State, w.st.Reason, w.st.LeftSeconds = state, reason, 0
	st := w.st
	w.mu.Unlock()
	s := w.s
	s.guardMu.Lock()
	if s.watch == w {
		s.watch = nil
	}
	s.lastGuard = &st
	s.guardMu.Unlock()
	return st
}

// cancelled ends a watch stood down, or left running because bascule
// stops: then the step stays running and the next start resumes it. ctx is
// the watch's, ended: its values (the term's fence) go with the write.
func (w *guardWatch) cancelled(ctx context.Context) {
	w.mu.Lock()
	why := w.standDown
	w.mu.Unlock()
	if why == "" {
		return // bascule is stopping
	}
	w.endStep(context.WithoutCancel(ctx), store.StepDone, "stood down: "+why, "")
	w.finish(GuardStoodDown, why)
	w.s.log.Info("guard stood down", "version", w.version, "why", why)
}

func (w *guardWatch) pass(ctx context.Context, v guard.Verdict) {
	msg := fmt.Sprintf("passed: %s of %d requests failed (baseline %s of %d)", guard.Percent(v.ErrorRate), v.Requests,
		guard.Percent(v.BaselineErrorRate), v.BaselineRequests)
	w.endStep(ctx, store.StepDone, msg, "")
	w.finish(GuardPassed, msg)
	w.s.log.Info("guard passed", "version", w.version, "requests", v.Requests, "error_rate", v.ErrorRate)
}

// endStep ends the deployment's guard step, and sets its error if errMsg
// is not empty.
func (w *guardWatch) endStep(ctx context.Context, state, msg, errMsg string) {
	s := w.s
	d, err := s.opts.Store.Deployment(ctx, w.id)
	if err != nil {
		s.log.Error("guard: read deployment", "id", w.id, "err", err)
		return
	}
	now := s.now()
	for i := len(d.Steps) - 1; i >= 0; i-- {
		if st := &d.Steps[i]; st.Name == StepGuard && st.EndedAt == nil {
			st.State, st.Message, st.EndedAt = state, msg, &now
			break
		}
	}
	if errMsg != "" {
		d.Error = errMsg
	}
	if err := s.record(ctx, &d, ActionGoLive); err != nil {
		s.log.Error("guard: record step", "id", w.id, "err", err)
	}
}

func (s *Service) guardTick() time.Duration {
	if s.opts.GuardTick > 0 {
		return s.opts.GuardTick
	}
	return guardTick
}
