package deploy

import (
	"context"
	"errors"
	"fmt"
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

// abandonReady fails a release that was ready on d's color but never went
// live: its color is about to be replaced.
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
		old.Error, old.FinishedAt = fmt.Sprintf("superseded by deployment #%d before going live", d.ID), &now
		s.moveOrLog(ctx, old, ActionDeploy, store.StateFailed)
	}
}

// replace takes color out of the router, lets its in-flight requests
// finish (up to the drain timeout) and stops what ran there.
func (s *Service) replace(ctx context.Context, color router.Color) (string, error) {
	addr := s.opts.Router.Table().Upstreams[color]
	_, running := s.opts.Driver.Instance(string(color))
	if addr == "" && !running {
		return "the slot was empty", nil
	}
	// Out of the router first, stopped only once drained: a preview request
	// in flight on this color finishes.
	if err := s.unroute(ctx, color); err != nil {
		return "", err
	}
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
	if err := s.unroute(ctx, color); err != nil {
		s.log.Error("clear slot", "color", color, "err", err)
	}
	if err := s.opts.Driver.Stop(ctx, string(color)); err != nil {
		s.log.Error("stop slot", "color", color, "err", err)
	}
}

// unroute removes color from the router and records that it runs nothing;
// what runs there keeps running.
func (s *Service) unroute(ctx context.Context, color router.Color) error {
	if err := s.setUpstream(ctx, color, ""); err != nil {
		return err
	}
	if err := s.opts.Store.PutSlot(context.WithoutCancel(ctx), s.opts.App, store.Slot{Color: string(color), UpdatedAt: s.now()}); err != nil {
		return fmt.Errorf("clear slot %s: %w", color, err)
	}
	return nil
}

// spec is what the driver needs to run rel, unpacked in dir: the
// release's files and command, or its image.
func (s *Service) spec(rel store.Release, dir string) runtime.Spec {
	return runtime.Spec{Version: rel.Version, Dir: dir, Image: rel.Image, Command: s.opts.Command, Env: s.opts.Env}
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
		return upstream(inst), nil
	}
	rel, err := s.opts.Store.Release(ctx, slot.Version)
	if err != nil {
		return "", err
	}
	dir, err := s.unpack(ctx, rel)
	if err != nil {
		return "", err
	}
	inst, err := s.opts.Driver.Start(ctx, string(color), s.spec(rel, dir))
	if err != nil {
		return "", fmt.Errorf("start %s on %s: %w", rel.Version, color, err)
	}
	if err := s.waitHealthy(ctx, color, inst.Addr); err != nil {
		s.opts.Driver.Stop(context.WithoutCancel(ctx), string(color))
		return "", err
	}
	return upstream(inst), nil
}

// upstream is the router's upstream for what runs in a slot: the
// reference the driver publishes for it (kubernetes: the color's Service,
// which the routers expand from its EndpointSlices), else its address, or
// its instances' addresses joined (router.JoinAddrs).
func upstream(inst runtime.Instance) string {
	if inst.Upstream != "" {
		return inst.Upstream
	}
	return router.JoinAddrs(inst.Addresses())
}

// probeAddrs returns the addresses to health-check for a color whose
// table upstream is up: up's own, or, for a reference, the ready instances
// the driver reports (it watches what the routers watch).
func (s *Service) probeAddrs(color router.Color, up string) []string {
	if !router.IsRef(up) {
		return router.SplitAddrs(up)
	}
	inst, ok := s.opts.Driver.Instance(string(color))
	if !ok {
		return nil
	}
	return inst.Addresses()
}

func (s *Service) probeTimeout() time.Duration {
	if s.opts.Health.Timeout > 0 {
		return s.opts.Health.Timeout
	}
	return 2 * time.Second
}

// incompleteSwitch reports whether err is a switch that a fleet of routers
// published and persisted, but that not every router confirmed (see
// internal/fleet): production did switch, so it counts as done, and the
// person who asked is told which routers lag.
func incompleteSwitch(err error) bool {
	var ie interface{ Incomplete() bool }
	return errors.As(err, &ie) && ie.Incomplete()
}
