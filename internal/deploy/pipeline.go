package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/router"
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
	rel, err := s.opts.Store.Release(ctx, version)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Deployment{}, fmt.Errorf("%w: %s (register it with `bascule release add %s PATH`)", ErrUnknownRelease, version, version)
		}
		return store.Deployment{}, err
	}
	if rel.Image != "" && !runsImages(s.opts.Driver) {
		err := fmt.Errorf("%w: %s is the image %s, and this bascule's runtime driver runs release artifacts (process, static); "+
			"images run with runtime.driver: kubernetes", ErrImageNotRunnable, version, rel.Image)
		s.audit(ctx, actor, "deploy", version, "refused", err.Error())
		return store.Deployment{}, err
	}
	if p := s.progressive(); p != nil {
		err := progressConflict(p, "promote it or roll back before the next deployment")
		s.audit(ctx, actor, "deploy", version, "refused", err.Error())
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
	s.audit(ctx, actor, "deploy", version, "started", fmt.Sprintf("deployment #%d: %s", d.ID, reason))
	s.setRunning(d.ID, true)
	// The pipeline works on its own copy: the caller reads the queued one
	// while the pipeline changes it.
	queued, running := d, d
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.run(s.ctx, &running)
		s.setRunning(running.ID, false)
		// Wake the followers, who stop once the pipeline has ended.
		s.events.publish(running)
	}()
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
		s.opts.Observer.DeploymentFinished(outcome, time.Since(d.CreatedAt))
	}
	if err != nil {
		p.fail(err)
		return
	}
	if s.opts.AutoGoLive {
		p.begin(StepGoLive, store.StateReady)
		if hold := s.held(ctx, d.Version); hold != "" {
			// The release stays ready: a person decides.
			p.endStep(store.StepSkipped, "not automatic: "+hold+"; go live by hand if you are sure")
			return
		}
		from := s.opts.Router.Table().Live
		if err := s.switchLocked(ctx, router.Color(d.Color), d.RequestedBy, "go-live", "automatic"); err != nil {
			// The release stays ready: an operator can still go live by hand.
			p.endStep(store.StepFailed, err.Error())
			return
		}
		// switchLocked recorded the deployment live in the store; the
		// pipeline's copy must say so too before it is saved again.
		now := s.now()
		d.State, d.FinishedAt = store.StateLive, &now
		p.endStep(store.StepDone, "all production traffic on "+d.Color)
		if from != router.Color(d.Color) {
			s.startGuard(ctx, d, router.Color(d.Color), from, now)
		}
		return
	}
	p.save()
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
	p.color = s.targetColor()
	p.d.Color = string(p.color)

	p.begin(StepFetch, store.StateMigrating)
	dir, err := s.unpack(ctx, rel)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", rel.Version, err)
	}
	p.done(fmt.Sprintf("%s verified, unpacked", rel.Digest[:min(len(rel.Digest), 19)]))

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

	// From here on the target color changes: what ran there is replaced.
	// Before, a failure leaves it exactly as it was (the previous release
	// warm for a rollback, or a ready one that can still go live).
	s.abandonReady(ctx, p.d)
	p.replacing = true
	p.begin(StepReplace, store.StateStarting)
	msg, err := s.replace(ctx, p.color, p.d.ID)
	if err != nil {
		return err
	}
	p.done(msg)

	p.begin(StepStart, store.StateStarting)
	inst, err := s.opts.Driver.Start(ctx, string(p.color), s.spec(rel.Version, dir))
	if err != nil {
		return fmt.Errorf("start %s on %s: %w", rel.Version, p.color, err)
	}
	p.addr = inst.Addr
	p.started = true
	p.done(fmt.Sprintf("pid %d on %s", inst.PID, inst.Addr))

	p.begin(StepHealth, store.StateVerifying)
	if err := s.waitHealthy(ctx, p.color, inst.Addr); err != nil {
		return err
	}
	p.done("healthy at " + inst.Addr)
	// From here the release is reachable through preview (or, on the very
	// first deployment, is the only thing there is to serve).
	s.opts.Router.SetUpstream(p.color, inst.Addr)
	if err := s.persistRouting(); err != nil {
		return err
	}
	if err := s.opts.Store.PutSlot(ctx, s.opts.App, store.Slot{Color: string(p.color), Version: rel.Version, DeploymentID: p.d.ID, UpdatedAt: s.now()}); err != nil {
		return fmt.Errorf("record slot: %w", err)
	}

	p.begin(StepSmoke, store.StateVerifying)
	if len(s.opts.SmokeCommand) == 0 {
		p.endStep(store.StepSkipped, "no smoke test configured")
	} else {
		out, err := s.smoke(ctx, dir, inst.Addr, rel.Version)
		if err != nil {
			return fmt.Errorf("smoke test: %w\n%s", err, out)
		}
		p.done(lastLine(out))
	}
	now := s.now()
	p.d.State, p.d.FinishedAt = store.StateReady, &now
	return nil
}

func (p *pipeline) begin(name, state string) {
	now := p.s.now()
	p.d.State = state
	p.d.Steps = append(p.d.Steps, store.Step{Name: name, State: store.StepRunning, StartedAt: now})
	p.save()
}

func (p *pipeline) done(msg string) { p.endStep(store.StepDone, msg) }

func (p *pipeline) endStep(state, msg string) {
	if len(p.d.Steps) == 0 {
		return
	}
	now := p.s.now()
	st := &p.d.Steps[len(p.d.Steps)-1]
	if st.EndedAt == nil {
		st.State, st.Message, st.EndedAt = state, msg, &now
	}
	p.save()
}

// save persists the deployment. It uses a context that outlives the
// pipeline's, so that an interrupted pipeline still records that it failed.
func (p *pipeline) save() {
	p.d.UpdatedAt = p.s.now()
	if err := p.s.opts.Store.UpdateDeployment(context.WithoutCancel(p.s.ctx), p.d); err != nil {
		p.s.log.Error("persist deployment", "id", p.d.ID, "err", err)
	}
	p.s.events.publish(*p.d)
}

// fail ends the deployment: the candidate is stopped, traffic never moved.
// A failure before the replace step leaves the target color as it was,
// and shows no log: the candidate never ran, and the color's log is the
// previous release's.
func (p *pipeline) fail(err error) {
	s := p.s
	ctx := context.WithoutCancel(s.ctx)
	if errors.Is(err, context.Canceled) {
		err = errors.New("interrupted: bascule was stopped during the deployment")
	}
	if p.started {
		p.d.LogTail = s.opts.Driver.Logs(string(p.color), logTailLines)
	}
	if p.replacing {
		s.clearSlot(ctx, p.color)
	}
	p.endStep(store.StepFailed, err.Error())
	now := s.now()
	p.d.State, p.d.Error, p.d.FinishedAt = store.StateFailed, err.Error(), &now
	p.save()
	s.audit(ctx, p.d.RequestedBy, "deploy", p.d.Version, "failed", fmt.Sprintf("deployment #%d: %v", p.d.ID, err))
	s.log.Warn("deployment failed", "id", p.d.ID, "version", p.d.Version, "err", err)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
