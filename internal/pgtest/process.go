package pgtest

import (
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// process is the running postmaster.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the postmaster has exited and been reaped
	err  error         // Wait's result, set before done is closed
}

// startProcess starts cmd in its own process group, with SIGQUIT as its
// parent-death signal so that the server shuts down if the test binary dies.
//
// The kernel sends the parent-death signal when the thread that forked the
// child exits, not the process, so the start happens on a goroutine locked to
// its thread and that goroutine lives (waiting) as long as the server does.
func startProcess(cmd *exec.Cmd) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	p := &process{cmd: cmd, done: make(chan struct{})}
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
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return p, nil
}

// pid is the postmaster's process ID, which is also its process group ID.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the postmaster has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// shutdown asks for an immediate shutdown (SIGQUIT, as pg_ctl stop -m
// immediate does): the postmaster stops its backends and exits without a
// checkpoint, which is all throw-away data needs. If it has not exited after
// grace, the whole process group is killed. The group is signalled only after
// checking that the postmaster, its leader, is still unreaped, so that the
// group ID cannot have been reused by someone else's processes.
func (p *process) shutdown(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil && !p.exited() {
		return fmt.Errorf("signal postgres %d: %w", p.pid(), err)
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
		return fmt.Errorf("kill postgres process group %d: %w", p.pid(), err)
	}
	return fmt.Errorf("stop postgres %d: no exit %v after SIGQUIT, killed", p.pid(), grace)
}
