//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Stop stops the app of color gracefully, every instance of it at once:
// SIGTERM to each whole process group, then SIGKILL to a group after
// StopTimeout. It returns once the leaders are dead and no process of
// their groups remains, so nothing the app forked is left behind and the
// ports are free. It returns nil if the slot is empty. If ctx ends first,
// the groups get SIGKILL and Stop returns the ctx error; the slot then
// still holds the app.
func (d *Driver) Stop(ctx context.Context, color string) error {
	if err := checkColor(color); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	g := d.current(color)
	if g == nil {
		return nil
	}
	errs := make([]error, len(g.procs))
	var wg sync.WaitGroup
	for i, s := range g.procs {
		wg.Go(func() { errs[i] = d.terminate(ctx, s) })
	}
	wg.Wait()
	first := g.procs[0].st
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop %s %s: %w", color, first.Version, err)
	}
	d.forget(color, g)
	for _, s := range g.procs {
		d.log.Info("app stopped", "color", color, "version", s.st.Version, "pid", s.st.PID)
	}
	return nil
}

// terminate signals the group of s and waits until it is gone.
func (d *Driver) terminate(ctx context.Context, s *slot) error {
	pgid := s.st.PGID
	if d.gone(s) {
		return nil
	}
	if err := signalGroup(pgid, syscall.SIGTERM); err != nil {
		return err
	}
	kill := time.NewTimer(d.opts.StopTimeout)
	defer kill.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !d.gone(s) {
		select {
		case <-ctx.Done():
			_ = signalGroup(pgid, syscall.SIGKILL)
			return fmt.Errorf("wait for exit: %w", ctx.Err())
		case <-kill.C:
			d.log.Warn("app ignored SIGTERM; sending SIGKILL", "color", s.st.Color,
				"pid", s.st.PID, "after", d.opts.StopTimeout, "group", groupMembers(pgid))
			if err := signalGroup(pgid, syscall.SIGKILL); err != nil {
				return err
			}
		case <-tick.C:
		}
	}
	return nil
}

// gone reports whether the leader of s is dead and its group empty. A
// leader pid now held by a newer process means our group emptied long ago
// (the kernel does not reuse a pid still naming a group), and the group of
// that pid is not ours to signal.
func (d *Driver) gone(s *slot) bool {
	leaderDead := !alive(s.st.PID, s.st.ProcStart)
	if s.own {
		// Our child is dead only once reaped: until then its zombie holds
		// the pid and the port is maybe not yet released.
		leaderDead = !s.running()
	}
	if !leaderDead {
		return false
	}
	return reused(s.st.PGID, s.st.ProcStart) || groupGone(s.st.PGID)
}
