//go:build linux

package process

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

// portBlock gives each driver of the run its own block of ports, away from
// the default range other packages' tests may use.
var portBlock atomic.Int32

func newDriver(t *testing.T, opts Options) *Driver {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.PortMin == 0 {
		b := int(portBlock.Add(1))
		opts.PortMin, opts.PortMax = 23000+b*50, 23049+b*50
	}
	d, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// testSpec runs the test binary as the app in the given mode.
func testSpec(t *testing.T, version, mode string) runtime.Spec {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return runtime.Spec{Version: version, Dir: t.TempDir(), Command: []string{self}, Env: []string{appEnv + "=" + mode}}
}

// start starts mode in color and stops it when the test ends, so no test
// app outlives its test.
func start(t *testing.T, d *Driver, color, version, mode string) runtime.Instance {
	t.Helper()
	inst, err := d.Start(context.Background(), color, testSpec(t, version, mode))
	if err != nil {
		t.Fatalf("Start(%s, %s): %v", color, version, err)
	}
	t.Cleanup(func() { stopNow(t, d, color) })
	return inst
}

func stopNow(t *testing.T, d *Driver, color string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.Stop(ctx, color); err != nil {
		t.Errorf("Stop(%s): %v", color, err)
	}
}

var fastCheck = runtime.HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: time.Second}

func waitHealthy(t *testing.T, d *Driver, color string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.WaitHealthy(ctx, color, fastCheck); err != nil {
		t.Fatalf("WaitHealthy(%s): %v\nlog:\n%s", color, err, strings.Join(d.Logs(color, 20), "\n"))
	}
}

// get returns the body the app at addr answers for path.
func get(t *testing.T, addr, path string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", addr, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s%s: %v", addr, path, err)
	}
	return string(b)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond) // polling pace, not synchronisation
	}
}

// logHas reports whether the app log of color has a line containing s.
func logHas(d *Driver, color, s string) bool {
	return slices.ContainsFunc(d.Logs(color, 100), func(l string) bool { return strings.Contains(l, s) })
}

func portFreeAddr(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
