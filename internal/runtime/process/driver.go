//go:build linux

// Package process is the embedded runtime driver: it runs a release's
// command on this machine, one process group per instance of a color slot
// (Options.Instances of them), with their output in the slot's log file
// and each one's identity in a state file, so that the app keeps serving
// when bascule dies and a new bascule can adopt it.
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
	// Instances is how many processes Start runs per color, each with its
	// own PORT; 1 if zero. The router balances a color's requests across
	// them.
	Instances int
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
	slots  map[string]*group
	closed bool
}

// slot is one process run in a color: one instance of it.
type slot struct {
	st      state
	own     bool          // our child, reaped by cmd.Wait; else adopted
	exited  chan struct{} // closed once the group leader is dead
	exitErr *runtime.ExitError
	grp     *group // the color's processes it belongs to
}

func newSlot(st state, own bool) *slot {
	return &slot{st: st, own: own, exited: make(chan struct{})}
}

// group is what runs in a color: one process per instance, started,
// stopped and reported together.
type group struct {
	procs []*slot // by instance index
	// exited is closed when the first of procs exits: the color no longer
	// runs whole. With one process it is that process's own channel.
	exited    chan struct{}
	firstExit *slot // the process that exited first; under Driver.mu
}

func newGroup(procs []*slot) *group {
	g := &group{procs: procs, exited: procs[0].exited}
	if len(procs) > 1 {
		g.exited = make(chan struct{})
	}
	for _, s := range procs {
		s.grp = g
	}
	return g
}

// running reports whether any process of g runs.
func (g *group) running() bool {
	for _, s := range g.procs {
		if s.running() {
			return true
		}
	}
	return false
}

// instance reports g as one runtime.Instance: the first process's, with
// every process's address in Addrs when there are several.
func (g *group) instance() runtime.Instance {
	inst := g.procs[0].st.Instance
	inst.Addrs = nil
	if len(g.procs) > 1 {
		for _, s := range g.procs {
			inst.Addrs = append(inst.Addrs, s.st.Addr)
		}
	}
	return inst
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
	if opts.Instances <= 0 {
		opts.Instances = 1
	}
	if span := opts.PortMax - opts.PortMin + 1; span < 2*opts.Instances {
		return nil, fmt.Errorf("new process driver: port range %d-%d holds %d ports; %d instances per color need %d",
			opts.PortMin, opts.PortMax, span, opts.Instances, 2*opts.Instances)
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
	return &Driver{opts: opts, log: log, done: make(chan struct{}), slots: map[string]*group{}}, nil
}

func checkColor(color string) error {
	if color != runtime.Blue && color != runtime.Green {
		return fmt.Errorf("%w %q", runtime.ErrUnknownColor, color)
	}
	return nil
}

// current returns the processes of color, or nil.
func (d *Driver) current(color string) *group {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.slots[color]
}

// Instance reports what runs in color now, with the address of each of
// its processes in Addrs when it runs several; false if none of them runs.
// A color with some processes dead still reports them all: the router
// ejects the instances that do not answer.
func (d *Driver) Instance(color string) (runtime.Instance, bool) {
	g := d.current(color)
	if g == nil || !g.running() {
		return runtime.Instance{}, false
	}
	return g.instance(), true
}

// Exited returns a channel closed when a process of color exits (the
// first one, when it runs several: the color no longer runs whole). After
// a crash it stays (closed) until Stop or the next Start, so a caller that
// asks late still learns of it. It is nil when the slot is empty.
func (d *Driver) Exited(color string) <-chan struct{} {
	if g := d.current(color); g != nil {
		return g.exited
	}
	return nil
}

// ExitErr tells how the process of color that exited first ended: an
// *runtime.ExitError with its status and last log line, or nil while all
// run or when the slot is empty.
func (d *Driver) ExitErr(color string) error {
	g := d.current(color)
	if g == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if g.firstExit == nil {
		return nil
	}
	return g.firstExit.exitErr
}

// Logs returns the last n lines of the slot's app log (stdout and stderr),
// also after the app exited; nil if there is none.
func (d *Driver) Logs(color string, n int) []string {
	if checkColor(color) != nil {
		return nil
	}
	return tail(filepath.Join(d.slotDir(color), logName), n)
}

// WaitHealthy waits until every process of color passes hc, like
// runtime.WaitAllHealthy: a color is ready only when all its instances
// are. When one dies first, the error wraps its *runtime.ExitError
// ("process exited with status 1: <last log line>"). It returns
// runtime.ErrNotRunning if the slot is empty.
func (d *Driver) WaitHealthy(ctx context.Context, color string, hc runtime.HealthCheck) error {
	g := d.current(color)
	if g == nil {
		return fmt.Errorf("wait healthy %s: %w", color, runtime.ErrNotRunning)
	}
	addrs := make([]string, len(g.procs))
	exited := make([]<-chan struct{}, len(g.procs))
	for i, s := range g.procs {
		addrs[i], exited[i] = s.st.Addr, s.exited
	}
	err := runtime.WaitAllHealthy(ctx, addrs, hc, exited)
	if errors.Is(err, runtime.ErrExited) {
		if e := d.ExitErr(color); e != nil {
			return fmt.Errorf("wait healthy %s: %w", color, e)
		}
	}
	return err
}

// finish records that the leader of s died, drops its state file (unless a
// newer process owns the slot already) and closes s.exited, and its
// group's exited if it is the first of the group to die.
func (d *Driver) finish(s *slot, e *runtime.ExitError) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s.exitErr = e
	color := s.st.Color
	if d.slots[color] == s.grp && !d.closed {
		if err := removeStateOf(d.stateFile(color, s.st.Index), s.st); err != nil {
			d.log.Warn("app exited; state file stays", "color", color, "err", err)
		}
	}
	d.log.Info("app exited", "color", color, "version", s.st.Version, "pid", s.st.PID, "addr", s.st.Addr, "status", e.Error())
	close(s.exited)
	if g := s.grp; g.firstExit == nil {
		g.firstExit = s
		if len(g.procs) > 1 {
			close(g.exited)
		}
	}
}

// forget empties the slot of color if g still holds it.
func (d *Driver) forget(color string, g *group) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.slots[color] != g {
		return
	}
	delete(d.slots, color)
	for _, s := range g.procs {
		if err := removeStateOf(d.stateFile(color, s.st.Index), s.st); err != nil {
			d.log.Warn("stopped; state file stays", "color", color, "err", err)
		}
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
