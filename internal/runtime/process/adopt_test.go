//go:build linux

package process

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/runtime"
	"github.com/google/go-cmp/cmp"
)

// abandon starts mode in color with a first driver on dir, then closes
// that driver as if bascule had died, leaving the app running.
func abandon(t *testing.T, dir, color, version, mode string) runtime.Instance {
	t.Helper()
	a := newDriver(t, Options{Dir: dir})
	inst := start(t, a, color, version, mode)
	waitHealthy(t, a, color)
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !pidAlive(inst.PID) {
		t.Fatalf("app pid %d died with its driver", inst.PID)
	}
	return inst
}

func TestAdoptAfterBasculeDied(t *testing.T) {
	dir := t.TempDir()
	inst := abandon(t, dir, "green", "v7", "serve")

	b := newDriver(t, Options{Dir: dir})
	got, err := b.Adopt(context.Background())
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if diff := cmp.Diff([]runtime.Instance{inst}, got); diff != "" {
		t.Fatalf("Adopt() mismatch (-want +got):\n%s", diff)
	}
	if cur, ok := b.Instance("green"); !ok || !cmp.Equal(cur, inst) {
		t.Errorf("Instance(green) after Adopt = %+v, %v; want %+v", cur, ok, inst)
	}
	if body := get(t, inst.Addr, "/"); !strings.HasPrefix(body, "release=v7 color=green") {
		t.Errorf("adopted app answers %q, want v7 on green", body)
	}
	if err := b.WaitHealthy(context.Background(), "green", fastCheck); err != nil {
		t.Errorf("WaitHealthy(adopted green): %v", err)
	}
	if _, err := b.Start(context.Background(), "green", testSpec(t, "v8", "serve")); !errors.Is(err, runtime.ErrBusy) {
		t.Errorf("Start(green) over an adopted app = %v, want ErrBusy (never a duplicate)", err)
	}

	exited := b.Exited("green")
	if err := b.Stop(context.Background(), "green"); err != nil {
		t.Fatalf("Stop(adopted green): %v", err)
	}
	if pidAlive(inst.PID) {
		t.Errorf("adopted app pid %d alive after Stop", inst.PID)
	}
	if !portFreeAddr(inst.Addr) {
		t.Errorf("port %s still taken after Stop", inst.Addr)
	}
	if !logHas(b, "green", "got terminated, shutting down") {
		t.Errorf("Logs(green) = %q, want a graceful SIGTERM", b.Logs("green", 10))
	}
	waitFor(t, "Exited(green) of the adopted app closed", 10*time.Second, func() bool { return closed(exited) })
}

func TestAdoptedAppExitIsNoticed(t *testing.T) {
	dir := t.TempDir()
	inst := abandon(t, dir, "blue", "v1", "serve")
	b := newDriver(t, Options{Dir: dir})
	if _, err := b.Adopt(context.Background()); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	exited := b.Exited("blue")
	// The test started this app: it may signal it, as a crash would end it.
	if err := syscall.Kill(inst.PID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Exited(blue) of a dead adopted app closed", 10*time.Second, func() bool { return closed(exited) })
	if _, ok := b.Instance("blue"); ok {
		t.Error("Instance(blue) still reported after the adopted app died")
	}
	if err := b.ExitErr("blue"); !errors.Is(err, runtime.ErrExited) || !strings.Contains(err.Error(), "bye") {
		t.Errorf("ExitErr(blue) = %v, want an exit with the last log line", err)
	}
	waitFor(t, "state file removed", 10*time.Second, func() bool {
		_, err := os.Stat(b.statePath("blue"))
		return errors.Is(err, os.ErrNotExist)
	})
}

func TestAdoptRemovesStaleState(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, Options{Dir: dir})

	// blue: the app died while no bascule watched; its pid is free.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeTestState(t, d, "blue", dead.Process.Pid, 1)
	// green: the recorded pid runs, but it is another process that reused
	// the pid (here the test itself, with another start time). Adopting it
	// would let Stop signal a stranger.
	self, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	writeTestState(t, d, "green", os.Getpid(), self.start+1)

	got, err := d.Adopt(context.Background())
	if err != nil || len(got) != 0 {
		t.Fatalf("Adopt() = %+v, %v; want nothing adopted", got, err)
	}
	for _, color := range runtime.Colors() {
		if _, err := os.Stat(d.statePath(color)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale state file of %s: %v, want it removed", color, err)
		}
		if _, ok := d.Instance(color); ok {
			t.Errorf("Instance(%s) reported from a stale state file", color)
		}
	}
}

func TestAdoptRemovesUnreadableState(t *testing.T) {
	d := newDriver(t, Options{})
	if err := os.WriteFile(d.statePath("blue"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Adopt(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("Adopt() = %+v, %v; want nothing adopted", got, err)
	}
	if _, err := os.Stat(d.statePath("blue")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unreadable state file: %v, want it removed", err)
	}
}

func TestStateFileRecordsIdentity(t *testing.T) {
	d := newDriver(t, Options{})
	inst := start(t, d, "blue", "v1", "serve")
	st, err := readState(filepath.Join(d.opts.Dir, "blue", "instance.json"))
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	ps, err := readProcStat(inst.PID)
	if err != nil {
		t.Fatal(err)
	}
	want := state{Instance: inst, PGID: inst.PID, ProcStart: ps.start}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("instance.json mismatch (-want +got):\n%s", diff)
	}
	if ps.pgrp != inst.PID {
		t.Errorf("app process group = %d, want its own (%d)", ps.pgrp, inst.PID)
	}
}

func writeTestState(t *testing.T, d *Driver, color string, pid int, start uint64) {
	t.Helper()
	st := state{Instance: runtime.Instance{Color: color, Version: "v0", Addr: "127.0.0.1:1", PID: pid}, PGID: pid, ProcStart: start}
	if err := writeState(d.statePath(color), st); err != nil {
		t.Fatal(err)
	}
}
