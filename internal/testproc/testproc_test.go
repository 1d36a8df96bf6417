package testproc_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/testproc"
	"github.com/bascule/bascule/internal/testreport"
)

// alive reports whether pid names a process that has not been reaped.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestStopEndsAProgramThatExitsOnItsSignal: the signal asked for is the
// one the program gets, and Stop returns once it is reaped.
func TestStopEndsAProgramThatExitsOnItsSignal(t *testing.T) {
	p, err := testproc.Start("sleeper", exec.Command("sleep", "60"), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatal("Exited right after Start, want the program running")
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if !p.Exited() {
		t.Error("Exited after Stop = false")
	}
	if ws := p.ProcessState().Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("the program ended %v, want by SIGTERM", p.ProcessState())
	}
	if err := p.Stop(syscall.SIGTERM, time.Second); err != nil {
		t.Errorf("a second Stop = %v, want nil", err)
	}
}

// TestStopKillsTheGroupOfAProgramThatIgnoresItsSignal: after the grace,
// the whole process group is killed, what the program forked included,
// and Stop says so.
func TestStopKillsTheGroupOfAProgramThatIgnoresItsSignal(t *testing.T) {
	child := t.TempDir() + "/child"
	// The shell ignores TERM and forks a sleep that writes its pid down.
	script := `trap "" TERM; sh -c 'echo $$ > ` + child + `; exec sleep 60' & wait`
	p, err := testproc.Start("stubborn", exec.Command("sh", "-c", script), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	deadline := time.Now().Add(10 * time.Second)
	for pid == 0 {
		b, _ := os.ReadFile(child)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if pid == 0 && time.Now().After(deadline) {
			t.Fatal("the forked child never wrote its pid")
		}
		time.Sleep(10 * time.Millisecond)
	}
	err = p.Stop(syscall.SIGTERM, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop of a program ignoring SIGTERM = %v, want an error saying it was killed", err)
	}
	if !p.Exited() {
		t.Error("the program still runs after Stop")
	}
	deadline = time.Now().Add(10 * time.Second)
	for alive(pid) {
		// The child is init's to reap once its parent died: it may linger
		// as a zombie for a moment, which Kill(pid, 0) still finds.
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program's child %d still runs after Stop: the group was not killed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type server struct{ stopped *atomic.Int32 }

func (s server) Stop() error { s.stopped.Add(1); return nil }

var errNotInstalled = errors.New("not installed")

// TestSharedLaunchesOnceAndStopsOnce: every test of a package gets the
// same one; Stop stops it once, and one never launched is not stopped.
func TestSharedLaunchesOnceAndStopsOnce(t *testing.T) {
	var launched, stopped atomic.Int32
	dep := &testproc.Dependency[server]{Name: "thing", Timeout: time.Second, NotInstalled: errNotInstalled, Skips: &testreport.Skips{},
		Launch: func(context.Context) (server, error) { launched.Add(1); return server{&stopped}, nil }}
	var idle testproc.Shared[server]
	if err := idle.Stop(); err != nil || stopped.Load() != 0 {
		t.Errorf("Stop of one never launched = %v, stopped %d times; want nil, none", err, stopped.Load())
	}
	// Asked for after Stop, it is not launched: the test fails instead
	// of getting a zero value.
	tb := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		idle.Get(tb, dep)
	}()
	<-done
	if !tb.failed || launched.Load() != 0 {
		t.Errorf("Get after Stop: failed %v, launched %d; want the test failed, nothing launched", tb.failed, launched.Load())
	}
	var sh testproc.Shared[server]
	for range 3 {
		sh.Get(t, dep)
	}
	if launched.Load() != 1 {
		t.Errorf("three Gets launched %d, want 1", launched.Load())
	}
	for range 2 {
		if err := sh.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if stopped.Load() != 1 {
		t.Errorf("two Stops stopped it %d times, want 1", stopped.Load())
	}
}

// TestNotInstalledSkipsUnlessMandatory: without the programs a test skips
// on a developer's machine, and fails where they are mandatory (CI).
func TestNotInstalledSkipsUnlessMandatory(t *testing.T) {
	dep := &testproc.Dependency[server]{Name: "thing", Timeout: time.Second, NotInstalled: errNotInstalled, Skips: &testreport.Skips{},
		Launch: func(context.Context) (server, error) { return server{}, errNotInstalled }}
	for _, c := range []struct {
		ci       string
		skipped  bool
		describe string
	}{{"", true, "on a developer's machine"}, {"true", false, "with CI=true"}} {
		t.Setenv("CI", c.ci)
		tb := &recorder{}
		done := make(chan struct{})
		go func() { // Skipf and Fatalf end it, as they end a test
			defer close(done)
			dep.Start(tb)
		}()
		<-done
		if tb.skipped != c.skipped || tb.failed == c.skipped {
			t.Errorf("%s: skipped %v, failed %v; want skipped %v", c.describe, tb.skipped, tb.failed, c.skipped)
		}
	}
}

// recorder is a test whose skip or failure is recorded instead of taken,
// so that a test can tell which one Dependency.Start chose. testing.TB has
// an unexported method: the recorder embeds one (nil) and overrides what
// Start calls; anything else would panic.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()        {}
func (r *recorder) Cleanup(func()) {}
func (r *recorder) Skipf(string, ...any) {
	r.skipped = true
	runtime.Goexit()
}
func (r *recorder) Fatalf(string, ...any) {
	r.failed = true
	runtime.Goexit()
}
