package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/store"
)

// targetColor is the color a new deployment goes to: the idle one, or the
// live one when nothing serves there yet (the very first deployment).
func (s *Service) targetColor() router.Color {
	t := s.opts.Router.Table()
	if t.Upstreams[t.Live] == "" {
		return t.Live
	}
	return t.Live.Other()
}

// replace takes the target color out of the router, lets its in-flight
// requests finish (up to the drain timeout) and stops what ran there.
func (s *Service) replace(ctx context.Context, color router.Color, id int64) (string, error) {
	addr := s.opts.Router.Table().Upstreams[color]
	_, running := s.opts.Driver.Instance(string(color))
	if addr == "" && !running {
		return "the slot was empty", nil
	}
	// Out of the router first, stopped only once drained: a preview request
	// in flight on this color finishes.
	s.unroute(ctx, color)
	start := time.Now()
	if addr != "" {
		dctx, cancel := context.WithTimeout(ctx, s.opts.DrainTimeout)
		err := s.opts.Router.Drain(dctx, addr)
		cancel()
		if err != nil && ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	drained := time.Since(start).Round(time.Millisecond)
	if err := s.opts.Driver.Stop(ctx, string(color)); err != nil {
		return "", fmt.Errorf("stop the release on %s: %w", color, err)
	}
	return fmt.Sprintf("drained in %s, stopped", drained), nil
}

// clearSlot removes color from the router, records that it runs nothing,
// and stops what ran there at once (a failed or interrupted candidate).
func (s *Service) clearSlot(ctx context.Context, color router.Color) {
	s.unroute(ctx, color)
	if err := s.opts.Driver.Stop(ctx, string(color)); err != nil {
		s.log.Error("stop slot", "color", color, "err", err)
	}
}

// unroute removes color from the router and records that it runs nothing;
// what runs there keeps running.
func (s *Service) unroute(ctx context.Context, color router.Color) {
	s.opts.Router.SetUpstream(color, "")
	if err := s.persistRouting(); err != nil {
		s.log.Error("persist routing", "err", err)
	}
	if err := s.opts.Store.PutSlot(ctx, s.opts.App, store.Slot{Color: string(color), UpdatedAt: s.now()}); err != nil {
		s.log.Error("clear slot", "color", color, "err", err)
	}
}

func (s *Service) spec(version, dir string) runtime.Spec {
	return runtime.Spec{Version: version, Dir: dir, Command: s.opts.Command, Env: s.opts.Env}
}

// healthWaiter is a driver that waits for health itself, with a better
// error when the app dies first.
type healthWaiter interface {
	WaitHealthy(ctx context.Context, color string, hc runtime.HealthCheck) error
}

func (s *Service) waitHealthy(ctx context.Context, color router.Color, addr string) error {
	hctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	wait := func() error {
		return runtime.WaitHealthy(hctx, addr, s.opts.Health, s.opts.Driver.Exited(string(color)))
	}
	// The process driver knows how its app ended: its error names the exit
	// status and the last log line.
	if hw, ok := s.opts.Driver.(healthWaiter); ok {
		wait = func() error { return hw.WaitHealthy(hctx, string(color), s.opts.Health) }
	}
	if err := wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("health check of %s: %w", color, err)
	}
	return nil
}

// smoke runs the smoke-test command from the release directory, in its own
// process group so that a timeout kills everything it started.
func (s *Service) smoke(ctx context.Context, dir, addr, version string) (string, error) {
	sctx, cancel := context.WithTimeout(ctx, s.opts.SmokeTimeout)
	defer cancel()
	cmd := exec.CommandContext(sctx, s.opts.SmokeCommand[0], s.opts.SmokeCommand[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASCULE_CANDIDATE_URL=http://"+addr, "BASCULE_RELEASE="+version)
	cmd.Env = append(cmd.Env, s.opts.SmokeEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if len(out) > 4096 {
		out = out[len(out)-4096:]
	}
	if sctx.Err() != nil && ctx.Err() == nil {
		return string(out), fmt.Errorf("timed out after %s", s.opts.SmokeTimeout)
	}
	return string(out), err
}

// ensureRunning makes sure color runs its recorded release and is healthy,
// starting it first if needed (say, after a host restart).
func (s *Service) ensureRunning(ctx context.Context, color router.Color) (string, error) {
	slots, err := s.opts.Store.Slots(ctx, s.opts.App)
	if err != nil {
		return "", err
	}
	slot := slots[string(color)]
	if slot.Version == "" {
		return "", conflict("the %s color runs no release", color)
	}
	if inst, ok := s.opts.Driver.Instance(string(color)); ok {
		pctx, cancel := context.WithTimeout(ctx, s.probeTimeout())
		defer cancel()
		if err := runtime.Probe(pctx, inst.Addr, s.opts.Health); err != nil {
			return "", conflict("%s on %s is not healthy: %v", slot.Version, color, err)
		}
		return inst.Addr, nil
	}
	rel, err := s.opts.Store.Release(ctx, slot.Version)
	if err != nil {
		return "", err
	}
	dir, err := s.opts.Artifacts.Unpack(ctx, rel.Digest, rel.Format, rel.Filename)
	if err != nil {
		return "", err
	}
	inst, err := s.opts.Driver.Start(ctx, string(color), s.spec(rel.Version, dir))
	if err != nil {
		return "", fmt.Errorf("start %s on %s: %w", rel.Version, color, err)
	}
	if err := s.waitHealthy(ctx, color, inst.Addr); err != nil {
		s.opts.Driver.Stop(context.WithoutCancel(ctx), string(color))
		return "", err
	}
	return inst.Addr, nil
}

func (s *Service) probeTimeout() time.Duration {
	if s.opts.Health.Timeout > 0 {
		return s.opts.Health.Timeout
	}
	return 2 * time.Second
}

// switchTo makes color live. The new table is persisted before it is
// installed, so a crash in between restarts on what the operator asked for.
// It returns once the old color has no request in flight (up to the drain
// timeout), so whoever stops the old color afterwards cuts nothing.
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
	next := router.Table{Live: color, Upstreams: map[router.Color]string{}}
	for c, a := range t.Upstreams {
		next.Upstreams[c] = a
	}
	next.Upstreams[color] = addr
	if s.opts.RoutingPath != "" {
		if err := SaveRouting(s.opts.RoutingPath, next); err != nil {
			return err
		}
	}
	s.opts.Router.SetUpstream(color, addr)
	var partial error
	if err := s.opts.Router.Switch(color); err != nil {
		if !incompleteSwitch(err) {
			return fmt.Errorf("switch to %s: %w", color, err)
		}
		partial = err // switched, but not every router of a fleet confirmed
	}
	if old != "" && old != addr {
		s.waitRequestsDone(ctx, old)
	}
	return partial
}

// incompleteSwitch reports whether err is a switch that a fleet of routers
// published and persisted, but that not every router confirmed (see
// internal/fleet): production did switch, so it counts as done, and the
// person who asked is told which routers lag.
func incompleteSwitch(err error) bool {
	var ie interface{ Incomplete() bool }
	return errors.As(err, &ie) && ie.Incomplete()
}

// waitRequestsDone waits until no request is in flight to addr, up to the
// drain timeout. The old color keeps running: nothing is cut. Upgraded
// connections (WebSockets) are not waited for: they may last for hours and
// stay connected to the old color, which still runs; they are closed when
// that color is replaced, after its drain timeout.
func (s *Service) waitRequestsDone(ctx context.Context, addr string) {
	deadline := time.NewTimer(s.opts.DrainTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.opts.Router.InFlight(addr)-s.opts.Router.Upgraded(addr) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			s.log.Warn("requests still in flight on the old color after the drain timeout", "addr", addr)
			return
		case <-tick.C:
		}
	}
}

func (s *Service) audit(ctx context.Context, actor, action, target, outcome, detail string) {
	e := &store.AuditEntry{At: s.now(), Actor: actor, Action: action, Target: target, Outcome: outcome, Detail: detail}
	if err := s.opts.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("append audit", "action", action, "err", err)
	}
}
