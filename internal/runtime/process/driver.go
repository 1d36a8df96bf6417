//go:build linux

// Package process is the embedded runtime driver: it runs a release's
// command on this machine, one process group per color slot, with its
// output in a log file and its identity in a state file, so that the app
// keeps serving when bascule dies and a new bascule can adopt it.
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

// Options configure a Driver. The zero value works.
type Options struct {
	// Dir is the state directory: slot state files and logs live in
	// Dir/blue/ and Dir/green/. Empty means bascule-slots-<uid> in
	// os.TempDir(), which a reboot clears together with the apps.
	Dir string
	// PortMin and PortMax bound the ports given to apps; 20000-20999 if
	// zero.
	PortMin, PortMax int
	// StopTimeout is how long Stop waits after SIGTERM before it sends
	// SIGKILL to the whole process group; 10s if zero.
	StopTimeout time.Duration
	// Logger receives the driver's own events; nil discards them.
	Logger *slog.Logger
}

// pollInterval paces the watch of adopted processes (not our children, so
// no wait(2) tells us when they die) and Stop's wait for the group to go.
const pollInterval = 25 * time.Millisecond

// Driver runs releases as local processes. Its methods are safe for
// concurrent use.
type Driver struct {
	opts     Options
	log      *slog.Logger
	done     chan struct{} // closed by Close: adopted-process watchers stop
	watchers sync.WaitGroup

	mu     sync.Mutex
	slots  map[string]*slot
	closed bool
}

// slot is one process run in a color.
type slot struct {
	st      state
	own     bool          // our child, reaped by cmd.Wait; else adopted
	exited  chan struct{} // closed once the group leader is dead
	exitErr *runtime.ExitError
}

func newSlot(st state, own bool) *slot {
	return &slot{st: st, own: own, exited: make(chan struct{})}
}

func (s *slot) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// New returns a Driver and creates its state directory. Call Adopt next to
// take back the apps a previous bascule left running.
func New(opts Options) (*Driver, error) {
	if opts.Dir == "" {
		opts.Dir = filepath.Join(os.TempDir(), "bascule-slots-"+strconv.Itoa(os.Getuid()))
	}
	if opts.PortMin == 0 && opts.PortMax == 0 {
		opts.PortMin, opts.PortMax = 20000, 20999
	}
	if opts.PortMin < 1 || opts.PortMax > 65535 || opts.PortMin > opts.PortMax {
		return nil, fmt.Errorf("new process driver: bad port range %d-%d", opts.PortMin, opts.PortMax)
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 10 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, c := range runtime.Colors() {
		if err := os.MkdirAll(filepath.Join(opts.Dir, c), 0o755); err != nil {
			return nil, fmt.Errorf("new process driver: %w", err)
		}
	}
	return &Driver{opts: opts, log: log, done: make(chan struct{}), slots: map[string]*slot{}}, nil
}

func checkColor(color string) error {
	if color != runtime.Blue && color != runtime.Green {
		return fmt.Errorf("%w %q", runtime.ErrUnknownColor, color)
	}
	return nil
}

// current returns the slot of color, or nil.
func (d *Driver) current(color string) *slot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.slots[color]
}

// Instance reports what runs in color now; false if nothing runs there.
func (d *Driver) Instance(color string) (runtime.Instance, bool) {
	s := d.current(color)
	if s == nil || !s.running() {
		return runtime.Instance{}, false
	}
	return s.st.Instance, true
}

// Exited returns a channel closed when the process of color exits. After a
// crash it stays (closed) until Stop or the next Start, so a caller that
// asks late still learns of it. It is nil when the slot is empty.
func (d *Driver) Exited(color string) <-chan struct{} {
	if s := d.current(color); s != nil {
		return s.exited
	}
	return nil
}

// ExitErr tells how the last process of color ended: an *runtime.ExitError
// with its status and last log line, or nil while it runs or when the slot
// is empty.
func (d *Driver) ExitErr(color string) error {
	s := d.current(color)
	if s == nil || s.running() {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return s.exitErr
}

// Logs returns the last n lines of the slot's app log (stdout and stderr),
// also after the app exited; nil if there is none.
func (d *Driver) Logs(color string, n int) []string {
	if checkColor(color) != nil {
		return nil
	}
	return tail(filepath.Join(d.slotDir(color), logName), n)
}

// WaitHealthy waits until the app in color passes hc, like
// runtime.WaitHealthy. When the app dies first, the error wraps its
// *runtime.ExitError ("process exited with status 1: <last log line>").
// It returns runtime.ErrNotRunning if the slot is empty.
func (d *Driver) WaitHealthy(ctx context.Context, color string, hc runtime.HealthCheck) error {
	s := d.current(color)
	if s == nil {
		return fmt.Errorf("wait healthy %s: %w", color, runtime.ErrNotRunning)
	}
	err := runtime.WaitHealthy(ctx, s.st.Addr, hc, s.exited)
	if errors.Is(err, runtime.ErrExited) {
		if e := d.ExitErr(color); e != nil {
			return fmt.Errorf("wait healthy %s: %w", color, e)
		}
	}
	return err
}

// finish records that the leader of s died, drops its state file (unless a
// newer process owns the slot already) and closes s.exited.
func (d *Driver) finish(s *slot, e *runtime.ExitError) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s.exitErr = e
	color := s.st.Color
	if d.slots[color] == s && !d.closed {
		if err := removeStateOf(d.statePath(color), s.st); err != nil {
			d.log.Warn("app exited; state file stays", "color", color, "err", err)
		}
	}
	d.log.Info("app exited", "color", color, "version", s.st.Version, "pid", s.st.PID, "status", e.Error())
	close(s.exited)
}

// forget empties the slot of color if s still holds it.
func (d *Driver) forget(color string, s *slot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.slots[color] != s {
		return
	}
	delete(d.slots, color)
	if err := removeStateOf(d.statePath(color), s.st); err != nil {
		d.log.Warn("stopped; state file stays", "color", color, "err", err)
	}
}

// Close stops watching adopted processes and refuses further Start and
// Adopt calls. It does not stop the apps: they keep serving, and the next
// bascule adopts them.
func (d *Driver) Close() error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.done)
	}
	d.mu.Unlock()
	d.watchers.Wait()
	return nil
}
