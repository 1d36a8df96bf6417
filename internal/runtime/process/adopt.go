//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

// Adopt re-attaches, at start-up, to the apps a previous bascule left
// running (killed with kill -9, its apps kept serving). For each state
// file whose pid is alive with the recorded /proc start time, the app
// becomes the slot's instance: Instance reports it, Stop signals its
// group, Exited is closed when it dies. State files of dead apps, or of
// pids now held by another process, are removed. Slots this driver already
// runs are reported as they are.
func (d *Driver) Adopt(ctx context.Context) ([]runtime.Instance, error) {
	var out []runtime.Instance
	var errs []error
	for _, color := range runtime.Colors() {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("adopt: %w", err)
		}
		inst, ok, err := d.adoptSlot(color)
		if err != nil {
			errs = append(errs, fmt.Errorf("adopt %s: %w", color, err))
		}
		if ok {
			out = append(out, inst)
		}
	}
	return out, errors.Join(errs...)
}

// adoptSlot adopts the processes of color that its state files name and
// that still run, each instance's file in turn.
func (d *Driver) adoptSlot(color string) (runtime.Instance, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return runtime.Instance{}, false, errors.New("driver closed")
	}
	if g := d.slots[color]; g != nil && g.running() {
		return g.instance(), true, nil
	}
	var procs []*slot
	var errs []error
	for _, path := range d.stateFiles(color) {
		st, err := readState(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			d.log.Warn("removing unreadable state file", "color", color, "err", err)
			errs = append(errs, removeState(path))
			continue
		case !alive(st.PID, st.ProcStart):
			d.log.Info("removing stale state file", "color", color, "version", st.Version, "pid", st.PID)
			errs = append(errs, removeState(path))
			continue
		}
		st.Color = color
		procs = append(procs, newSlot(st, false))
	}
	if len(procs) == 0 {
		return runtime.Instance{}, false, errors.Join(errs...)
	}
	slices.SortFunc(procs, func(a, b *slot) int { return a.st.Index - b.st.Index })
	g := newGroup(procs)
	d.slots[color] = g
	for _, s := range procs {
		d.watchers.Add(1)
		go d.watch(s)
		d.log.Info("app adopted", "color", color, "version", s.st.Version, "pid", s.st.PID, "addr", s.st.Addr)
	}
	return g.instance(), true, errors.Join(errs...)
}

// watch polls /proc until the adopted leader dies: it is not our child,
// so no wait(2) will tell us. It gives up when the driver is closed.
func (d *Driver) watch(s *slot) {
	defer d.watchers.Done()
	tick := time.NewTicker(4 * pollInterval)
	defer tick.Stop()
	for alive(s.st.PID, s.st.ProcStart) {
		select {
		case <-d.done:
			return
		case <-tick.C:
		}
	}
	// Not our child: the status went to whoever reaped it.
	e := &runtime.ExitError{Code: -1}
	if last := tail(filepath.Join(d.slotDir(s.st.Color), logName), 1); len(last) > 0 {
		e.LastLog = last[0]
	}
	d.finish(s, e)
}
