// Package static is the runtime driver for upstreams that something else
// runs: each color has fixed addresses (one instance or several), Start only records which version
// the caller says is there, and Stop forgets it. Nothing is started or
// stopped, so there are no logs and no exits to report.
package static

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

// Driver maps colors to fixed addresses. Its methods are safe for
// concurrent use.
type Driver struct {
	addrs map[string][]string
	dir   string // "" keeps versions in memory only

	mu    sync.Mutex
	slots map[string]runtime.Instance
}

// New returns a driver for the given color → "host:port" addresses, e.g.
// {"blue": "127.0.0.1:19001", "green": "127.0.0.1:19002"}, that keeps the
// recorded versions in memory only.
func New(addrs map[string]string) *Driver {
	several := make(map[string][]string, len(addrs))
	for c, a := range addrs {
		several[c] = []string{a}
	}
	return NewInstances(several)
}

// NewInstances is New for colors of one instance or several: each color
// maps to the "host:port" of each of its instances, which the router
// balances.
func NewInstances(addrs map[string][]string) *Driver {
	d := &Driver{addrs: map[string][]string{}, slots: map[string]runtime.Instance{}}
	for c, a := range addrs {
		d.addrs[c] = slices.Clone(a)
	}
	return d
}

// Open is NewInstances with a state directory: the version recorded for
// each color is kept in dir/<color>.json, so that Adopt after a restart
// reports it.
func Open(dir string, addrs map[string][]string) (*Driver, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open static driver: %w", err)
	}
	d := NewInstances(addrs)
	d.dir = dir
	return d, nil
}

// instance is what color runs at its fixed addresses, version aside.
func (d *Driver) instance(color string) runtime.Instance {
	addrs := d.addrs[color]
	inst := runtime.Instance{Color: color}
	if len(addrs) > 0 {
		inst.Addr = addrs[0]
	}
	if len(addrs) > 1 {
		inst.Addrs = slices.Clone(addrs)
	}
	return inst
}

// WaitHealthy waits until every instance of color passes hc
// (runtime.WaitAllHealthy). It returns runtime.ErrNotRunning if nothing
// was recorded in the slot.
func (d *Driver) WaitHealthy(ctx context.Context, color string, hc runtime.HealthCheck) error {
	inst, ok := d.Instance(color)
	if !ok {
		return fmt.Errorf("wait healthy %s: %w", color, runtime.ErrNotRunning)
	}
	return runtime.WaitAllHealthy(ctx, inst.Addresses(), hc, nil)
}

// Start records spec.Version as running at the color's fixed address and
// returns that instance. Like the process driver, it refuses (wrapping
// runtime.ErrBusy) a slot that holds a version: Stop it first.
func (d *Driver) Start(ctx context.Context, color string, spec runtime.Spec) (runtime.Instance, error) {
	if len(d.addrs[color]) == 0 {
		return runtime.Instance{}, fmt.Errorf("start %s: %w %q", spec.Version, runtime.ErrUnknownColor, color)
	}
	if err := ctx.Err(); err != nil {
		return runtime.Instance{}, fmt.Errorf("start %s %s: %w", color, spec.Version, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, busy := d.slots[color]; busy {
		return runtime.Instance{}, fmt.Errorf("start %s %s: %w: %s recorded there", color, spec.Version, runtime.ErrBusy, cur.Version)
	}
	inst := d.instance(color)
	inst.Version, inst.Started = spec.Version, time.Now().UTC()
	if err := d.save(inst); err != nil {
		return runtime.Instance{}, fmt.Errorf("start %s %s: %w", color, spec.Version, err)
	}
	d.slots[color] = inst
	return inst, nil
}

// Stop forgets the version recorded for color; the upstream itself is not
// ours to stop. It returns nil for an empty slot.
func (d *Driver) Stop(ctx context.Context, color string) error {
	if _, ok := d.addrs[color]; !ok {
		return fmt.Errorf("stop: %w %q", runtime.ErrUnknownColor, color)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.slots, color)
	if d.dir == "" {
		return nil
	}
	if err := os.Remove(d.path(color)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stop %s: %w", color, err)
	}
	return nil
}

// Instance reports what was recorded for color by Start or Adopt.
func (d *Driver) Instance(color string) (runtime.Instance, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	inst, ok := d.slots[color]
	return inst, ok
}

// Exited returns nil: an upstream run elsewhere never reports an exit.
func (d *Driver) Exited(string) <-chan struct{} { return nil }

// Logs returns nil: the upstream's logs are kept by whatever runs it.
func (d *Driver) Logs(string, int) []string { return nil }

// Adopt reports every configured slot as an instance, sorted by color,
// with the version recorded in the state directory (empty if none was
// recorded), and holds them as running: the upstreams are assumed to serve.
func (d *Driver) Adopt(ctx context.Context) ([]runtime.Instance, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []runtime.Instance
	var errs []error
	for _, color := range slices.Sorted(maps.Keys(d.addrs)) {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("adopt: %w", err)
		}
		inst, ok := d.slots[color]
		if !ok {
			var err error
			if inst, err = d.load(color); err != nil {
				errs = append(errs, fmt.Errorf("adopt %s: %w", color, err))
			}
			d.slots[color] = inst
		}
		out = append(out, inst)
	}
	return out, errors.Join(errs...)
}

// Close does nothing: there is nothing to watch.
func (d *Driver) Close() error { return nil }

func (d *Driver) path(color string) string { return filepath.Join(d.dir, color+".json") }

// save writes inst to the state directory atomically, if there is one.
func (d *Driver) save(inst runtime.Instance) error {
	if d.dir == "" {
		return nil
	}
	b, err := json.Marshal(inst)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp := d.path(inst.Color) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, d.path(inst.Color)); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// load returns the recorded instance of color; without a record, the
// instance has the configured address and no version.
func (d *Driver) load(color string) (runtime.Instance, error) {
	inst := d.instance(color)
	if d.dir == "" {
		return inst, nil
	}
	b, err := os.ReadFile(d.path(color))
	if errors.Is(err, fs.ErrNotExist) {
		return inst, nil
	}
	if err != nil {
		return inst, fmt.Errorf("read state: %w", err)
	}
	var rec runtime.Instance
	if err := json.Unmarshal(b, &rec); err != nil {
		return inst, fmt.Errorf("decode state: %w", err)
	}
	inst.Version, inst.Started = rec.Version, rec.Started
	return inst, nil
}
