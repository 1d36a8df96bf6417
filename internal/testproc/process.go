// Package testproc runs the outside programs tests depend on (a PostgreSQL
// server, a Kubernetes control plane): each in its own process group, gone
// with the test binary however it ends, and, when the tests of a package
// share one, launched once on first use and stopped after the last test.
package testproc

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// Process is a program a test binary started.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and been reaped
	err  error         // Wait's result, set before done is closed
}

// Start starts cmd in its own process group, with death as its
// parent-death signal, so that it goes away even if the test binary
// panics, times out or is killed; name is what errors call it.
//
// The kernel sends the parent-death signal when the thread that forked the
// child exits, not the process, so the start happens on a goroutine locked
// to its thread, and that goroutine lives (waiting) as long as the child.
func Start(name string, cmd *exec.Cmd, death syscall.Signal) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = death
	p := &Process{name: name, cmd: cmd, done: make(chan struct{})}
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

// Name is what errors call the program.
func (p *Process) Name() string { return p.name }

// Pid is the program's process ID, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the program has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the program ended (exec.Cmd.Wait's result), once Done is
// closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// ProcessState is how the program exited; it waits for Done.
func (p *Process) ProcessState() *os.ProcessState {
	<-p.done
	return p.cmd.ProcessState
}

// Exited reports whether the program has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the program, if it still runs.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	return p.cmd.Process.Signal(sig)
}

// Stop sends sig and, if the program has not exited after grace, kills
// its whole process group. The group is signalled only while its leader
// is unreaped, so that its ID cannot have been reused by someone else's.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !p.Exited() {
		return fmt.Errorf("signal %s %d: %w", p.name, p.Pid(), err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	if p.Exited() {
		return nil
	}
	err := syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.done
	if err != nil {
		return fmt.Errorf("kill %s process group %d: %w", p.name, p.Pid(), err)
	}
	return fmt.Errorf("stop %s %d: no exit %v after %v, killed", p.name, p.Pid(), grace, sig)
}
