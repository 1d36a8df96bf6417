package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// Pipeline step names, in order.
const (
	StepFetch    = "fetch"    // verify the artifact's digest and unpack it
	StepGates    = "gates"    // lint and shadow replay of what the next two steps will run
	StepFinalize = "finalize" // contract migrations of the release that was live
	StepMigrate  = "migrate"  // expand migrations (their gates again, then production)
	StepReplace  = "replace"  // drain and stop what ran on the target color
	StepStart    = "start"
	StepHealth   = "health"
	StepSmoke    = "smoke"
	StepGoLive   = "go-live" // only when the app switches automatically
)

// logTailLines is how much of the app's log a failed deployment keeps.
const logTailLines = 20

// Deploy registers a deployment of version and runs its pipeline in the
// background. It returns the queued deployment at once. It returns
// ErrUnknownRelease for a version never registered and a *ConflictError
// naming the running deployment when one is active.
func (s *Service) Deploy(ctx context.Context, version, reason, actor string) (store.Deployment, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return store.Deployment{}, err
	}
	rel, err := s.opts.Store.Release(ctx, version)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Deployment{}, fmt.Errorf("%w: %s (register it with `bascule release add %s PATH`)", ErrUnknownRelease, version, version)
		}
		return store.Deployment{}, err
	}
	if rel.Collected() {
		err := s.collectedError(rel)
		s.audit(ctx, actor, ActionDeploy, version, "refused", err.Error())
		return store.Deployment{}, err
	}
	if rel.Image != "" && !runsImages(s.opts.Driver) {
		err := fmt.Errorf("%w: %s is the image %s, and this bascule's runtime driver runs release artifacts (process, static); "+
			"images run with runtime.driver: kubernetes", ErrImageNotRunnable, version, rel.Image)
		s.audit(ctx, actor, ActionDeploy, version, "refused", err.Error())
		return store.Deployment{}, err
	}
	if p := s.progressive(); p != nil {
		err := progressConflict(p, "promote it or roll back before the next deployment")
		s.audit(ctx, actor, ActionDeploy, version, "refused", err.Error())
		return store.Deployment{}, err
	}
	now := s.now()
	// The color is settled again under the switching lock when the pipeline
	// starts; this one tells the caller where it is headed.
	d := store.Deployment{App: s.opts.App, Version: version, Color: string(s.targetColor()), State: store.StateQueued, Reason: reason,
		RequestedBy: actor, CreatedAt: now, UpdatedAt: now, Steps: []store.Step{}}
	if err := s.opts.Store.CreateDeployment(ctx, &d); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return d, s.activeConflict(ctx)
		}
		return d, fmt.Errorf("create deployment: %w", err)
	}
	s.audit(ctx, actor, ActionDeploy, version, "started", fmt.Sprintf("deployment #%d: %s", d.ID, reason))
	s.setRunning(d.ID, true)
	// The pipeline works on its own copy: the caller reads the queued one
	// while the pipeline changes it.
	queued, running := d, d
	_, started := s.spawn(func(ctx context.Context) {
		s.run(ctx, &running)
		s.setRunning(running.ID, false)
		// Wake the followers, who stop once the pipeline has ended.
		s.events.publish(running)
	})
	if !started {
		// The term ended since acting: the next leader's Recover fails the
		// queued deployment.
		s.setRunning(d.ID, false)
		return queued, ErrNotLeader
	}
	return queued, nil
}

func (s *Service) activeConflict(ctx context.Context) error {
	held, err := s.opts.Store.ActiveDeployment(ctx, s.opts.App)
	if err != nil {
		return conflict("another deployment is in progress")
	}
	return &ConflictError{Holder: &held, Msg: fmt.Sprintf(
		"deployment #%d of %s, asked by %s, is %s: wait for it to finish", held.ID, held.Version, held.RequestedBy, held.State)}
}

// run drives one deployment to ready (or live) or failed. Every transition
// is persisted before the next step starts.
func (s *Service) run(ctx context.Context, d *store.Deployment) {
	s.switching.Lock()
	defer s.switching.Unlock()
	p := &pipeline{s: s, d: d}
	err := p.execute(ctx)
	if s.opts.Observer != nil {
		outcome := store.StateReady
		if err != nil {
			outcome = store.StateFailed
		}
		s.opts.Observer.DeploymentFinished(string(outcome), time.Since(d.CreatedAt))
	}
	if err != nil {
		p.fail(ctx, err)
		return
	}
	if s.opts.AutoGoLive {
		p.autoGoLive(ctx)
	}
}

// autoGoLive switches production to the ready release, unless the guard
// rolled it back before: then it stays ready and a person decides.
func (p *pipeline) autoGoLive(ctx context.Context) {
	s, d := p.s, p.d
	if err := p.begin(ctx, StepGoLive, store.StateReady); err != nil {
		s.log.Error("automatic go-live", "id", d.ID, "err", err)
		return
	}
	if hold := s.held(ctx, d.Version); hold != "" {
		p.endStep(ctx, store.StepSkipped, "not automatic: "+hold+"; go live by hand if you are sure")
		return
	}
	from := s.opts.Router.Table().Live
	if err := s.switchLocked(ctx, router.Color(d.Color), d.RequestedBy, ActionGoLive, "automatic"); err != nil {
		// The release stays ready: an operator can still go live by hand.
		p.endStep(ctx, store.StepFailed, err.Error())
		return
	}
	// switchLocked moved the deployment live: the pipeline's copy is stale.
	cur, err := s.opts.Store.Deployment(context.WithoutCancel(ctx), d.ID)
	if err != nil {
		s.log.Error("automatic go-live: read deployment", "id", d.ID, "err", err)
		return
	}
	*d = cur
	p.endStep(ctx, store.StepDone, "all production traffic on "+d.Color)
	if from != router.Color(d.Color) {
		s.startGuard(ctx, d, router.Color(d.Color), from, s.now())
	}
}

type pipeline struct {
	s     *Service
	d     *store.Deployment
	color router.Color
	addr  string // the candidate's address once started
	// replacing is set once the target color is being replaced: only
	// then does a failure clear it.
	replacing bool
	// started is set once the candidate runs: only then is the color's
	// log the candidate's.
	started bool
}

func (p *pipeline) execute(ctx context.Context) error {
	s := p.s
	rel, err := s.opts.Store.Release(ctx, p.d.Version)
	if err != nil {
		return err
	}
	if rel.Collected() {
		// Collected between Deploy's check and the deployment's creation.
		return s.collectedError(rel)
	}
	p.color = s.targetColor()
	p.d.Color = string(p.color)

	if err := p.begin(ctx, StepFetch, store.StateMigrating); err != nil {
		return err
	}
	dir, err := s.unpack(ctx, rel)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", rel.Version, err)
	}
	if err := p.done(ctx, fmt.Sprintf("%s verified, unpacked", rel.Digest[:min(len(rel.Digest), 19)])); err != nil {
		return err
	}

	// Nothing touches production before the candidate passed every gate:
	// the live release is finalized only then, and its contract step was
	// rehearsed with the candidate's expand step.
	live, finalize := s.toFinalize(ctx)
	if err := p.gates(ctx, rel.Version, dir, live, finalize); err != nil {
		return err
	}
	if finalize {
		if err := p.finalizePrevious(ctx, live); err != nil {
			return err
		}
	}
	if err := p.migrate(ctx, rel.Version, dir); err != nil {
		return err
	}
	if err := p.startCandidate(ctx, rel, dir); err != nil {
		return err
	}
	if err := p.smokeTest(ctx, dir, rel.Version); err != nil {
		return err
	}
	now := s.now()
	p.d.FinishedAt = &now
	return s.move(ctx, p.d, ActionDeploy, store.StateReady)
}

// startCandidate replaces what ran on the target color with the
// candidate, waits until it is healthy, and routes its color to it (for
// preview, or production on the very first deployment).
func (p *pipeline) startCandidate(ctx context.Context, rel store.Release, dir string) error {
	s := p.s
	version := rel.Version
	// From here on the target color changes: what ran there is replaced.
	// Before, a failure leaves it exactly as it was (the previous release
	// warm for a rollback, or a ready one that can still go live).
	s.abandonReady(ctx, p.d)
	p.replacing = true
	if err := p.begin(ctx, StepReplace, store.StateStarting); err != nil {
		return err
	}
	msg, err := s.replace(ctx, p.color)
	if err != nil {
		return err
	}
	if err := p.done(ctx, msg); err != nil {
		return err
	}

	if err := p.begin(ctx, StepStart, store.StateStarting); err != nil {
		return err
	}
	inst, err := s.opts.Driver.Start(ctx, string(p.color), s.spec(rel, dir))
	if err != nil {
		return fmt.Errorf("start %s on %s: %w", version, p.color, err)
	}
	p.addr = inst.Addr
	p.started = true
	if err := p.done(ctx, startedText(inst)); err != nil {
		return err
	}

	if err := p.begin(ctx, StepHealth, store.StateVerifying); err != nil {
		return err
	}
	if err := s.waitHealthy(ctx, p.color, inst.Addr); err != nil {
		return err
	}
	if err := p.done(ctx, "healthy at "+inst.Addr); err != nil {
		return err
	}
	if err := s.setUpstream(ctx, p.color, upstream(inst)); err != nil {
		return err
	}
	if err := s.opts.Store.PutSlot(ctx, s.opts.App, store.Slot{Color: string(p.color), Version: version, DeploymentID: p.d.ID, UpdatedAt: s.now()}); err != nil {
		return fmt.Errorf("record slot: %w", err)
	}
	return nil
}

// begin starts step name with the deployment in state.
func (p *pipeline) begin(ctx context.Context, name string, state store.State) error {
	p.d.Steps = append(p.d.Steps, store.Step{Name: name, State: store.StepRunning, StartedAt: p.s.now()})
	return p.s.move(ctx, p.d, ActionDeploy, state)
}

func (p *pipeline) done(ctx context.Context, msg string) error {
	return p.endStep(ctx, store.StepDone, msg)
}

// endStep ends the running step as state with msg.
func (p *pipeline) endStep(ctx context.Context, state, msg string) error {
	p.closeStep(state, msg)
	return p.s.record(ctx, p.d, ActionDeploy)
}

// closeStep ends the running step in the pipeline's copy only.
func (p *pipeline) closeStep(state, msg string) {
	if len(p.d.Steps) == 0 {
		return
	}
	now := p.s.now()
	if st := &p.d.Steps[len(p.d.Steps)-1]; st.EndedAt == nil {
		st.State, st.Message, st.EndedAt = state, msg, &now
	}
}

// fail ends the deployment: the candidate is stopped, traffic never moved.
// A failure before the replace step leaves the target color as it was,
// and shows no log: the candidate never ran, and the color's log is the
// previous release's. It records the failure even when ctx is cancelled.
func (p *pipeline) fail(ctx context.Context, err error) {
	s := p.s
	ctx = context.WithoutCancel(ctx)
	if errors.Is(err, context.Canceled) {
		err = errors.New("interrupted: bascule was stopped during the deployment")
	}
	if p.started {
		p.d.LogTail = s.opts.Driver.Logs(string(p.color), logTailLines)
	}
	if p.replacing {
		s.clearSlot(ctx, p.color)
	}
	p.closeStep(store.StepFailed, err.Error())
	now := s.now()
	p.d.Error, p.d.FinishedAt = err.Error(), &now
	s.moveOrLog(ctx, p.d, ActionDeploy, store.StateFailed)
	s.audit(ctx, p.d.RequestedBy, ActionDeploy, p.d.Version, "failed", fmt.Sprintf("deployment #%d: %v", p.d.ID, err))
	s.log.Warn("deployment failed", "id", p.d.ID, "version", p.d.Version, "err", err)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// startedText says where a started slot runs: the process (pid, address)
// when bascule started one, else what the router sends its traffic to.
func startedText(inst runtime.Instance) string {
	where := strings.Join(inst.Addresses(), ", ")
	if inst.Upstream != "" {
		where = inst.Upstream
	}
	switch n := len(inst.Addresses()); {
	case inst.PID > 0 && n > 1:
		return fmt.Sprintf("%d instances, first pid %d, on %s", n, inst.PID, where)
	case inst.PID > 0:
		return fmt.Sprintf("pid %d on %s", inst.PID, where)
	}
	return "on " + where
}
