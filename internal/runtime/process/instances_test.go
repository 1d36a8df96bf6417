//go:build linux

package process

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pids returns the pid of each process of color, by instance.
func pids(d *Driver, color string) []int {
	g := d.current(color)
	if g == nil {
		return nil
	}
	var out []int
	for _, s := range g.procs {
		out = append(out, s.st.PID)
	}
	return out
}

// With instances: 2, Start runs two real processes of the release, each on
// its own port, reported together; Stop stops both.
func TestInstancesStartTwoStopBoth(t *testing.T) {
	d := newDriver(t, Options{Instances: 2, StopTimeout: time.Minute})
	inst := start(t, d, "blue", "v3", "serve")
	if len(inst.Addrs) != 2 || inst.Addrs[0] == inst.Addrs[1] || inst.Addr != inst.Addrs[0] {
		t.Fatalf("Start with 2 instances = %+v; want two addresses, Addr the first", inst)
	}
	waitHealthy(t, d, "blue")
	for _, a := range inst.Addrs {
		_, port, _ := net.SplitHostPort(a)
		if got, want := get(t, a, "/"), "release=v3 color=blue port="+port; got != want {
			t.Errorf("GET / on %s = %q, want %q", a, got, want)
		}
	}
	ps := pids(d, "blue")
	if len(ps) != 2 || ps[0] == ps[1] {
		t.Fatalf("pids = %v, want two processes", ps)
	}
	for i := range 2 {
		if _, err := os.Stat(d.stateFile("blue", i)); err != nil {
			t.Errorf("state file of instance %d: %v", i, err)
		}
	}
	if err := d.Stop(context.Background(), "blue"); err != nil {
		t.Fatalf("Stop(blue): %v", err)
	}
	for i, pid := range ps {
		if pidAlive(pid) {
			t.Errorf("instance %d (pid %d) alive after Stop", i, pid)
		}
		if !portFreeAddr(inst.Addrs[i]) {
			t.Errorf("port %s still taken after Stop", inst.Addrs[i])
		}
		if _, err := os.Stat(d.stateFile("blue", i)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("state file of instance %d after Stop: %v, want it removed", i, err)
		}
	}
	if n := strings.Count(strings.Join(d.Logs("blue", 100), "\n"), "bye"); n != 2 {
		t.Errorf("log has %d graceful goodbyes, want 2 (one per instance)", n)
	}
}

// One instance dying closes Exited (the color no longer runs whole), with
// its exit status; the color still reports the instance that runs.
func TestInstancesOneDies(t *testing.T) {
	d := newDriver(t, Options{Instances: 2})
	start(t, d, "green", "v1", "serve")
	waitHealthy(t, d, "green")
	exited := d.Exited("green")
	if err := syscall.Kill(pids(d, "green")[1], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("Exited(green) not closed after an instance died")
	}
	if err := d.ExitErr("green"); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("ExitErr(green) = %v, want the killed instance's", err)
	}
	if inst, ok := d.Instance("green"); !ok || len(inst.Addrs) != 2 {
		t.Errorf("Instance(green) = %+v, %v; want both addresses while one runs", inst, ok)
	}
}

// A new bascule adopts every instance of a color.
func TestInstancesAdopted(t *testing.T) {
	dir := t.TempDir()
	a := newDriver(t, Options{Dir: dir, Instances: 2})
	inst := start(t, a, "blue", "v4", "serve")
	waitHealthy(t, a, "blue")
	a.Close()

	b := newDriver(t, Options{Dir: dir})
	got, err := b.Adopt(context.Background())
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if len(got) != 1 || strings.Join(got[0].Addrs, ",") != strings.Join(inst.Addrs, ",") {
		t.Fatalf("Adopt = %+v, want blue with %v", got, inst.Addrs)
	}
	ps := pids(b, "blue")
	if err := b.Stop(context.Background(), "blue"); err != nil {
		t.Fatalf("Stop after Adopt: %v", err)
	}
	for _, pid := range ps {
		if pidAlive(pid) {
			t.Errorf("adopted instance pid %d alive after Stop", pid)
		}
	}
}

// A color is healthy only when all its instances are.
func TestInstancesAllMustBeHealthy(t *testing.T) {
	d := newDriver(t, Options{Instances: 2})
	start(t, d, "blue", "v1", "unhealthy")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := d.WaitHealthy(ctx, "blue", fastCheck); err == nil {
		t.Fatal("WaitHealthy = nil for instances answering 500")
	}
}

func TestInstancesNeedPorts(t *testing.T) {
	if _, err := New(Options{Dir: t.TempDir(), PortMin: 30000, PortMax: 30002, Instances: 2}); err == nil {
		t.Error("New with 3 ports for 2 colors of 2 instances: nil error")
	}
}
