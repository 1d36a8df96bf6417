//go:build linux

package process

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

func TestStartServesWithPortAndRelease(t *testing.T) {
	d := newDriver(t, Options{})
	inst := start(t, d, "blue", "v2", "serve")
	if inst.Color != "blue" || inst.Version != "v2" || inst.PID == 0 || inst.Started.IsZero() {
		t.Fatalf("Start(blue, v2) = %+v, want color, version, pid and start time", inst)
	}
	waitHealthy(t, d, "blue")

	_, port, _ := net.SplitHostPort(inst.Addr)
	want := "release=v2 color=blue port=" + port
	if got := get(t, inst.Addr, "/"); got != want {
		t.Errorf("GET / on blue = %q, want %q", got, want)
	}
	if got, ok := d.Instance("blue"); !ok || !reflect.DeepEqual(got, inst) {
		t.Errorf("Instance(blue) = %+v, %v; want %+v, true", got, ok, inst)
	}
	for _, line := range []string{"listening on " + inst.Addr, "stderr goes to the log too"} {
		if !logHas(d, "blue", line) {
			t.Errorf("Logs(blue) = %q, want a line %q", d.Logs("blue", 100), line)
		}
	}
}

func TestStopIsGraceful(t *testing.T) {
	d := newDriver(t, Options{StopTimeout: time.Minute})
	inst := start(t, d, "blue", "v1", "serve")
	waitHealthy(t, d, "blue")
	exited := d.Exited("blue")

	if err := d.Stop(context.Background(), "blue"); err != nil {
		t.Fatalf("Stop(blue): %v", err)
	}
	if !closed(exited) {
		t.Error("Exited(blue) still open after Stop returned")
	}
	if pidAlive(inst.PID) {
		t.Errorf("app pid %d alive after Stop", inst.PID)
	}
	if !portFreeAddr(inst.Addr) {
		t.Errorf("port %s still taken after Stop", inst.Addr)
	}
	if got := d.Logs("blue", 1); len(got) != 1 || got[0] != "bye" {
		t.Errorf("last log line after Stop = %q, want %q (a graceful shutdown)", got, "bye")
	}
	if !logHas(d, "blue", "got terminated, shutting down") {
		t.Errorf("Logs(blue) = %q, want the app to have got SIGTERM", d.Logs("blue", 10))
	}
	if _, ok := d.Instance("blue"); ok {
		t.Error("Instance(blue) still reported after Stop")
	}
	if d.Exited("blue") != nil {
		t.Error("Exited(blue) not nil after Stop")
	}
	if _, err := os.Stat(d.statePath("blue")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file after Stop: %v, want it removed", err)
	}
	if err := d.Stop(context.Background(), "blue"); err != nil {
		t.Errorf("second Stop(blue) = %v, want nil", err)
	}
}

func TestStopKillsAppIgnoringSIGTERM(t *testing.T) {
	d := newDriver(t, Options{StopTimeout: 300 * time.Millisecond})
	inst := start(t, d, "green", "v1", "stubborn")
	waitHealthy(t, d, "green")

	if err := d.Stop(context.Background(), "green"); err != nil {
		t.Fatalf("Stop(green): %v", err)
	}
	if pidAlive(inst.PID) {
		t.Errorf("stubborn app pid %d alive after Stop", inst.PID)
	}
	if !logHas(d, "green", "ignoring terminated") {
		t.Errorf("Logs(green) = %q, want SIGTERM to have come first", d.Logs("green", 10))
	}
	if logHas(d, "green", "bye") {
		t.Error("stubborn app exited by itself, want it killed")
	}
}

func TestStopKillsGrandchildren(t *testing.T) {
	// The app exits on SIGTERM but its grandchild ignores it: Stop must not
	// return while the grandchild lives, and must SIGKILL it.
	d := newDriver(t, Options{StopTimeout: 300 * time.Millisecond})
	inst := start(t, d, "blue", "v1", "fork")
	waitHealthy(t, d, "blue")
	grandchild := atoi(t, get(t, inst.Addr, "/grandchild"))
	if !pidAlive(grandchild) {
		t.Fatalf("grandchild %d not running", grandchild)
	}

	if err := d.Stop(context.Background(), "blue"); err != nil {
		t.Fatalf("Stop(blue): %v", err)
	}
	if pidAlive(grandchild) {
		t.Errorf("grandchild %d alive after Stop: orphan left behind", grandchild)
	}
	if pidAlive(inst.PID) {
		t.Errorf("app pid %d alive after Stop", inst.PID)
	}
	if !logHas(d, "blue", "orphan ignoring terminated") {
		t.Errorf("Logs(blue) = %q, want the grandchild to have got SIGTERM", d.Logs("blue", 10))
	}
}

func TestAppExitingAtOnce(t *testing.T) {
	d := newDriver(t, Options{})
	start(t, d, "blue", "v3", "exit")

	waitFor(t, "Exited(blue) closed", 20*time.Second, func() bool { return closed(d.Exited("blue")) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := d.WaitHealthy(ctx, "blue", fastCheck)
	if !errors.Is(err, runtime.ErrExited) || ctx.Err() != nil {
		t.Fatalf("WaitHealthy(blue) = %v, want an early process exited error", err)
	}
	const last = "fatal: cannot open database"
	for _, want := range []string{"exited with status 3", last} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("WaitHealthy(blue) = %q, want it to say %q", err, want)
		}
	}
	if got := d.Logs("blue", 1); len(got) != 1 || got[0] != last {
		t.Errorf("Logs(blue, 1) = %q, want [%q]", got, last)
	}
	if _, ok := d.Instance("blue"); ok {
		t.Error("Instance(blue) reported for a dead app")
	}
	if _, err := os.Stat(d.statePath("blue")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file of a dead app: %v, want it removed", err)
	}

	// A crashed slot is free: the next release can start there.
	start(t, d, "blue", "v4", "serve")
	waitHealthy(t, d, "blue")
	if got := d.Logs("blue", 100); strings.Contains(strings.Join(got, "\n"), last) {
		t.Errorf("Logs(blue) of v4 = %q, want the v3 log rotated out", got)
	}
	old, err := os.ReadFile(filepath.Join(d.slotDir("blue"), "app.log.1"))
	if err != nil || !strings.Contains(string(old), last) {
		t.Errorf("app.log.1 = %q, %v; want the v3 log kept", old, err)
	}
}

func TestNeverHealthyApp(t *testing.T) {
	d := newDriver(t, Options{})
	inst := start(t, d, "green", "v5", "unhealthy")
	// The deadline below is for the health check, not for the app's start.
	waitFor(t, "app listening", 20*time.Second, func() bool { return logHas(d, "green", "listening on") })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := runtime.WaitHealthy(ctx, inst.Addr, fastCheck, d.Exited("green"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitHealthy(never healthy) = %v, want the deadline", err)
	}
	if want := "health check GET /healthz: 500 Internal Server Error after"; !strings.Contains(err.Error(), want) {
		t.Errorf("WaitHealthy(never healthy) = %q, want it to contain %q", err, want)
	}
}

func TestStartRefusesBusySlot(t *testing.T) {
	d := newDriver(t, Options{})
	blue := start(t, d, "blue", "v1", "serve")
	_, err := d.Start(context.Background(), "blue", testSpec(t, "v2", "serve"))
	if !errors.Is(err, runtime.ErrBusy) {
		t.Fatalf("Start(blue, v2) on a busy slot = %v, want ErrBusy", err)
	}
	if got, _ := d.Instance("blue"); got.Version != "v1" {
		t.Errorf("Instance(blue) after refused start = %s, want v1", got.Version)
	}
	green := start(t, d, "green", "v2", "serve")
	if blue.Addr == green.Addr {
		t.Errorf("blue and green both got %s, want different ports", blue.Addr)
	}
	waitHealthy(t, d, "blue")
	waitHealthy(t, d, "green")
	if got := get(t, green.Addr, "/"); !strings.HasPrefix(got, "release=v2 color=green") {
		t.Errorf("GET / on green = %q, want v2 on green", got)
	}
}

func TestStartErrors(t *testing.T) {
	d := newDriver(t, Options{})
	spec := testSpec(t, "v1", "serve")
	tests := []struct {
		name, color string
		spec        runtime.Spec
		want        string
	}{
		{"unknown color", "red", spec, "unknown color"},
		{"empty command", "blue", runtime.Spec{Version: "v1", Dir: spec.Dir}, "empty command"},
		{"missing binary", "blue", runtime.Spec{Version: "v1", Dir: spec.Dir, Command: []string{"./bin/nope"}}, "no such file"},
		{"not in PATH", "blue", runtime.Spec{Version: "v1", Dir: spec.Dir, Command: []string{"bascule-no-such-app"}}, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Start(context.Background(), tt.color, tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start(%s) = %v, want an error containing %q", tt.color, err, tt.want)
			}
			if _, ok := d.Instance("blue"); ok {
				t.Error("failed Start left an instance in blue")
			}
		})
	}
}

func TestStartRunsCommandRelativeToReleaseDir(t *testing.T) {
	d := newDriver(t, Options{})
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"hello from $BASCULE_RELEASE in $(pwd) with $GREETING\"\nexit 0\n"
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "app"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := runtime.Spec{Version: "v9", Dir: dir, Command: []string{"bin/app"}, Env: []string{"GREETING=hi", "BASCULE_RELEASE=spoofed"}}
	if _, err := d.Start(context.Background(), "green", spec); err != nil {
		t.Fatalf("Start(green, bin/app): %v", err)
	}
	t.Cleanup(func() { stopNow(t, d, "green") })
	waitFor(t, "script exit", 20*time.Second, func() bool { return closed(d.Exited("green")) })
	want := "hello from v9 in " + dir + " with hi"
	if got := d.Logs("green", 1); len(got) != 1 || got[0] != want {
		t.Errorf("Logs(green) = %q, want [%q]", got, want)
	}
	if err := d.ExitErr("green"); err == nil || err.Error() != "process exited with status 0: "+want {
		t.Errorf("ExitErr(green) = %v, want status 0", err)
	}
}

func TestLeftoversOfCrashedAppKeepSlotBusy(t *testing.T) {
	d := newDriver(t, Options{StopTimeout: 300 * time.Millisecond})
	inst := start(t, d, "blue", "v1", "fork")
	waitHealthy(t, d, "blue")
	grandchild := atoi(t, get(t, inst.Addr, "/grandchild"))
	// The app crashes; the process it forked lives on.
	if err := syscall.Kill(inst.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Exited(blue) closed", 10*time.Second, func() bool { return closed(d.Exited("blue")) })

	if _, err := d.Start(context.Background(), "blue", testSpec(t, "v2", "serve")); !errors.Is(err, runtime.ErrBusy) {
		t.Fatalf("Start(blue) over a crashed app's live grandchild = %v, want ErrBusy", err)
	}
	if err := d.Stop(context.Background(), "blue"); err != nil {
		t.Fatalf("Stop(blue): %v", err)
	}
	if pidAlive(grandchild) {
		t.Errorf("grandchild %d alive after Stop of the crashed slot", grandchild)
	}
	start(t, d, "blue", "v2", "serve")
}

func TestStopKillsAtOnceWhenContextEnds(t *testing.T) {
	d := newDriver(t, Options{StopTimeout: time.Hour})
	inst := start(t, d, "green", "v1", "stubborn")
	waitHealthy(t, d, "green")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := d.Stop(ctx, "green"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop(green) with an ending ctx = %v, want the deadline", err)
	}
	waitFor(t, "stubborn app killed", 10*time.Second, func() bool { return closed(d.Exited("green")) })
	if pidAlive(inst.PID) {
		t.Errorf("stubborn app pid %d alive after its exit", inst.PID)
	}
	if err := d.ExitErr("green"); err == nil || !strings.Contains(err.Error(), "signal killed") {
		t.Errorf("ExitErr(green) = %v, want killed by SIGKILL", err)
	}
}
