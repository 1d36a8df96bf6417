package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// process is one program of the control plane, started by this test binary.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string        // the file its stdout and stderr go to
	done chan struct{} // closed once it has exited and been reaped
	err  error         // Wait's result, set before done is closed
}

// startProcess starts path in its own process group, its output appended to
// logPath, with SIGKILL as its parent-death signal so that it goes away even
// if the test binary panics, times out or is killed.
//
// The kernel sends the parent-death signal when the thread that forked the
// child exits, not the process, so the start happens on a goroutine locked
// to its thread, and that goroutine lives (waiting) as long as the child.
func startProcess(name, path, logPath string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A small, predictable environment: no KUBECONFIG or ETCD* of the
	// developer's leaks in.
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p, err := spawn(name, cmd)
	if err != nil {
		return nil, err
	}
	p.log = logPath
	return p, nil
}

// spawn starts cmd on a goroutine locked to its thread, which lives
// (waiting) as long as the child: see startProcess for why. cmd's
// SysProcAttr should ask for a parent-death signal.
func spawn(name string, cmd *exec.Cmd) (*process, error) {
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and, if the program has not exited after grace, kills
// its whole process group. The group is signalled only while its leader is
// unreaped, so that its ID cannot have been reused by someone else's.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		return fmt.Errorf("signal %s %d: %w", p.name, p.pid(), err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	if p.exited() {
		return nil
	}
	err := syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.done
	if err != nil {
		return fmt.Errorf("kill %s process group %d: %w", p.name, p.pid(), err)
	}
	return fmt.Errorf("stop %s %d: no exit %v after SIGTERM, killed", p.name, p.pid(), grace)
}

// logTail returns the end of the program's log, for error messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
