//go:build linux

package process

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

// Start runs spec in the slot of color, Options.Instances processes of it,
// and returns as soon as they are started; use WaitHealthy to know when
// they serve. Each gets its own PORT (a free port in the driver's range),
// and BASCULE_COLOR and BASCULE_RELEASE, in its environment; with several,
// also BASCULE_INSTANCE (0, 1, …). If one cannot be started, those already
// started are killed. Start returns an error wrapping runtime.ErrBusy if
// the slot runs something: Stop it first.
func (d *Driver) Start(ctx context.Context, color string, spec runtime.Spec) (runtime.Instance, error) {
	if err := checkColor(color); err != nil {
		return runtime.Instance{}, fmt.Errorf("start %s: %w", spec.Version, err)
	}
	if len(spec.Command) == 0 {
		return runtime.Instance{}, fmt.Errorf("start %s %s: empty command", color, spec.Version)
	}
	if err := ctx.Err(); err != nil {
		return runtime.Instance{}, fmt.Errorf("start %s %s: %w", color, spec.Version, err)
	}
	// The lock is held through the fork so that two Starts cannot both
	// find the slot free or pick the same port.
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return runtime.Instance{}, fmt.Errorf("start %s %s: driver closed", color, spec.Version)
	}
	if err := d.busy(d.slots[color]); err != nil {
		return runtime.Instance{}, fmt.Errorf("start %s %s: %w", color, spec.Version, err)
	}
	g, cmds, err := d.launchAll(color, spec)
	if err != nil {
		return runtime.Instance{}, fmt.Errorf("start %s %s: %w", color, spec.Version, err)
	}
	d.slots[color] = g
	for i, s := range g.procs {
		go d.reap(s, cmds[i])
		d.log.Info("app started", "color", color, "version", spec.Version, "instance", i, "pid", s.st.PID, "addr", s.st.Addr)
	}
	return g.instance(), nil
}

// busy returns an error wrapping runtime.ErrBusy if a process of the slot
// runs, or if one died leaving processes it forked: those may hold files
// or the database, and only Stop may clear them.
func (d *Driver) busy(g *group) error {
	if g == nil {
		return nil
	}
	for _, s := range g.procs {
		switch {
		case s.running():
			return fmt.Errorf("%w: %s runs there (pid %d)", runtime.ErrBusy, s.st.Version, s.st.PID)
		case !d.gone(s):
			return fmt.Errorf("%w: %s exited but processes of its group %d remain", runtime.ErrBusy, s.st.Version, s.st.PGID)
		}
	}
	return nil
}

// launchAll starts Options.Instances processes of spec in color, all
// writing to the slot's (new) log. If one fails to start, the others are
// killed and their state files removed: a color runs whole or not at all.
func (d *Driver) launchAll(color string, spec runtime.Spec) (*group, []*exec.Cmd, error) {
	logf, err := openLog(d.slotDir(color))
	if err != nil {
		return nil, nil, err
	}
	defer logf.Close() // each child has its own descriptor
	n := d.opts.Instances
	procs := make([]*slot, 0, n)
	cmds := make([]*exec.Cmd, 0, n)
	taken := map[int]bool{}
	for i := range n {
		s, cmd, err := d.launch(color, spec, i, n, logf, taken)
		if err != nil {
			for j, s := range procs {
				_ = signalGroup(s.st.PGID, syscall.SIGKILL)
				_ = cmds[j].Wait()
				_ = removeStateOf(d.stateFile(color, s.st.Index), s.st)
			}
			if n > 1 {
				err = fmt.Errorf("instance %d of %d: %w", i, n, err)
			}
			return nil, nil, err
		}
		procs, cmds = append(procs, s), append(cmds, cmd)
	}
	return newGroup(procs), cmds, nil
}

// launch forks instance i of n of the app in its own session with logf as
// stdout and stderr, and records it in its state file. taken holds the
// ports given to this launch's earlier instances; launch adds its own.
func (d *Driver) launch(color string, spec runtime.Spec, i, n int, logf *os.File, taken map[int]bool) (*slot, *exec.Cmd, error) {
	port, err := d.pickPort(taken)
	if err != nil {
		return nil, nil, err
	}
	taken[port] = true
	cmd, err := command(spec, color, port)
	if err != nil {
		return nil, nil, err
	}
	if n > 1 {
		cmd.Env = append(cmd.Env, "BASCULE_INSTANCE="+strconv.Itoa(i))
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", spec.Command[0], err)
	}
	st := state{Instance: runtime.Instance{
		Color: color, Version: spec.Version, Addr: "127.0.0.1:" + strconv.Itoa(port),
		PID: cmd.Process.Pid, Started: time.Now().UTC(),
	}, Index: i, PGID: cmd.Process.Pid}
	if err := d.record(&st); err != nil {
		// An app no state file knows of could not be adopted or stopped by
		// the next bascule: better not run it at all.
		_ = signalGroup(st.PGID, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, nil, err
	}
	return newSlot(st, true), cmd, nil
}

// record reads the start time of the new process and writes the state file.
// Until the child is reaped its /proc entry stays, even if it already died.
func (d *Driver) record(st *state) error {
	ps, err := readProcStat(st.PID)
	if err != nil {
		return fmt.Errorf("read start time: %w", err)
	}
	st.ProcStart = ps.start
	return writeState(d.stateFile(st.Color, st.Index), *st)
}

// command builds the exec.Cmd for spec. The app gets its own session (so
// its own process group): Stop can signal the app and everything it forked
// at once, and a Ctrl-C or SIGHUP aimed at bascule's terminal does not
// reach production.
func command(spec runtime.Spec, color string, port int) (*exec.Cmd, error) {
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve dir: %w", err)
	}
	path, err := resolve(dir, spec.Command[0])
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), spec.Env...)
	// Last wins in exec's environment, so the driver's values override
	// anything inherited or given in spec.Env.
	env = append(env, "PORT="+strconv.Itoa(port), "BASCULE_COLOR="+color, "BASCULE_RELEASE="+spec.Version)
	return &exec.Cmd{
		Path:        path,
		Args:        spec.Command,
		Dir:         dir,
		Env:         env,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}, nil
}

// resolve finds argv[0]: relative to the release dir if it has a slash
// ("./bin/app", "bin/app"), else in bascule's PATH.
func resolve(dir, name string) (string, error) {
	switch {
	case filepath.IsAbs(name):
		return name, nil
	case strings.Contains(name, "/"):
		return filepath.Join(dir, name), nil
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("resolve command: %w", err)
	}
	return path, nil
}

// pickPort returns a port of the range that nothing listens on, nor is
// in taken. The search starts at a random offset so that two drivers
// sharing a range (two bascules on one host, parallel tests) rarely race
// for the same port.
func (d *Driver) pickPort(taken map[int]bool) (int, error) {
	used := maps.Clone(taken)
	for _, g := range d.slots {
		for _, s := range g.procs {
			if s.running() {
				_, p, _ := net.SplitHostPort(s.st.Addr)
				n, _ := strconv.Atoi(p)
				used[n] = true
			}
		}
	}
	span := d.opts.PortMax - d.opts.PortMin + 1
	off := rand.IntN(span)
	for i := range span {
		p := d.opts.PortMin + (off+i)%span
		if !used[p] && portFree(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("pick port: none free in %d-%d", d.opts.PortMin, d.opts.PortMax)
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// reap waits for our child, so it never lingers as a zombie, and records
// how it ended.
func (d *Driver) reap(s *slot, cmd *exec.Cmd) {
	_ = cmd.Wait() // the status is in ProcessState
	e := &runtime.ExitError{Code: -1}
	if cmd.ProcessState != nil {
		e = exitError(cmd.ProcessState)
	}
	if last := tail(filepath.Join(d.slotDir(s.st.Color), logName), 1); len(last) > 0 {
		e.LastLog = last[0]
	}
	d.finish(s, e)
}

func exitError(ps *os.ProcessState) *runtime.ExitError {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return &runtime.ExitError{Code: ps.ExitCode()}
	case ws.Signaled():
		return &runtime.ExitError{Code: -1, Signal: ws.Signal().String()}
	default:
		return &runtime.ExitError{Code: ws.ExitStatus()}
	}
}
