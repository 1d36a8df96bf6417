package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// staticApp is an app that something else runs (the static driver's
// case): it answers with its name, and fails each request with a 500 with
// a chance of fail per mille, while its health check keeps passing.
type staticApp struct {
	srv  *httptest.Server
	fail atomic.Int64 // per mille
}

func newStaticApp(t *testing.T, name string) *staticApp {
	a := &staticApp{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Release", name)
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		if rand.Int64N(1000) < a.fail.Load() {
			http.Error(w, name+" is broken", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, name+"\n")
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// newStaticInstance is bascule serve with the static driver in front of
// blue and green, and extra YAML appended to its config.
func newStaticInstance(t *testing.T, blue, green *staticApp, extra string) *instance {
	t.Helper()
	dir := t.TempDir()
	in := &instance{t: t, dir: dir, listen: freeAddr(t), control: freeAddr(t)}
	in.config = filepath.Join(dir, "bascule.yaml")
	yaml := fmt.Sprintf(`listen: %s
control: %s
data_dir: %s
health_check:
  path: /healthz
  interval: 50ms
  start_timeout: 2s
runtime:
  driver: static
  static:
    blue: %s
    green: %s
%s`, in.listen, in.control, filepath.Join(dir, "data"), blue.srv.Listener.Addr(), green.srv.Listener.Addr(), extra)
	if err := os.WriteFile(in.config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	in.cl = &client.Client{BaseURL: "http://" + in.control, Token: adminToken}
	return in
}

// steadyLoad sends requests through the router from 6 clients, each
// pausing 10ms between requests, and counts what users saw.
type steadyLoad struct {
	stop          chan struct{}
	wg            sync.WaitGroup
	total, failed atomic.Int64
	byRelease     sync.Map // X-Release → *atomic.Int64
}

func startSteadyLoad(t *testing.T, url string) *steadyLoad {
	l := &steadyLoad{stop: make(chan struct{})}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 6 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				l.total.Add(1)
				resp, err := c.Get(url)
				if err != nil {
					l.failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					l.failed.Add(1)
				}
				n, _ := l.byRelease.LoadOrStore(resp.Header.Get("X-Release"), new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		}()
	}
	t.Cleanup(l.end)
	return l
}

func (l *steadyLoad) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// waitRequests waits until the load has sent n more requests.
func (l *steadyLoad) waitRequests(t *testing.T, n int64) {
	t.Helper()
	want := l.total.Load() + n
	waitFor(t, 30*time.Second, fmt.Sprintf("%d more requests", n), func() bool { return l.total.Load() >= want })
}

// goLiveWatch runs `bascule go-live --watch` as CI would, in the
// background, and returns its output and exit status when it ends.
func goLiveWatch(t *testing.T, in *instance) <-chan [2]any {
	done := make(chan [2]any, 1)
	go func() {
		out, code := runCLI(t, in, "go-live", "-m", "ship it", "--watch")
		done <- [2]any{out, code}
	}()
	return done
}

// TestGuardRollsBackThroughTheBinary is the first "done when":
// under steady load, a candidate whose health check passes but which fails
// 30 % of requests is rolled back automatically within 10 s of go-live;
// users see fewer than 1 % of requests fail over the whole run; the
// deployment's record says why; `go-live --watch` exits 1.
func TestGuardRollsBackThroughTheBinary(t *testing.T) {
	blue, green := newStaticApp(t, "v1"), newStaticApp(t, "v2")
	green.fail.Store(300)
	in := newStaticInstance(t, blue, green, "guard:\n  window: 1m\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s)", d.State, d.Error)
	}
	l := startSteadyLoad(t, "http://"+in.listen+"/")
	l.waitRequests(t, 1500) // v1's baseline
	start := time.Now()
	watched := goLiveWatch(t, in)
	var res [2]any
	select {
	case res = <-watched:
	case <-time.After(30 * time.Second):
		t.Fatal("go-live --watch did not end within 30s")
	}
	took := time.Since(start)
	out, code := res[0].(string), res[1].(int)
	t.Logf("bascule go-live --watch (exit %d):\n%s", code, out)
	l.waitRequests(t, 1500) // users carry on, on v1 again
	l.end()

	if code != 1 || !strings.Contains(out, "v2 is live on green") || !strings.Contains(out, "guard: rolled v2 back to blue: ") {
		t.Errorf("go-live --watch = exit %d:\n%s\nwant exit 1 saying the guard rolled v2 back", code, out)
	}
	if took > 10*time.Second {
		t.Errorf("rolled back %s after go-live, want within 10s", took)
	}
	failed, total := l.failed.Load(), l.total.Load()
	t.Logf("%d of %d requests failed (%.2f%%); rolled back %s after go-live", failed, total, 100*float64(failed)/float64(total), took.Round(time.Millisecond))
	if float64(failed) >= 0.01*float64(total) {
		t.Errorf("users saw %d of %d requests fail, want under 1%%", failed, total)
	}
	hist, err := in.cl.Deployments(context.Background(), 10)
	if err != nil || len(hist) == 0 {
		t.Fatalf("history = %v, %v", hist, err)
	}
	d := hist[0]
	if d.Version != "v2" || d.State != store.StateRolledBack || !strings.HasPrefix(d.Error, "guard: ") ||
		!strings.Contains(d.Error, "requests failed (5xx), limit 2%, baseline 0%") {
		t.Errorf("v2's record = %s %q, want rolled_back saying why", d.State, d.Error)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v1" {
		t.Errorf("production after the rollback = %s, want v1", rel)
	}
	st, code := runCLI(t, in, "status")
	if code != 0 || !strings.Contains(st, "guard: rolled v2 back to blue: ") {
		t.Errorf("status = %d:\n%s\nwant the guard's rollback", code, st)
	}
	hout, _ := runCLI(t, in, "history")
	if !strings.Contains(hout, "rolled_back") || !strings.Contains(hout, "guard: ") {
		t.Errorf("history does not say the guard rolled v2 back:\n%s", hout)
	}
}

// TestGuardLeavesAHealthyReleaseLive: the same load on a candidate as good
// as its predecessor (both fail 0.5 % of requests): never rolled back.
func TestGuardLeavesAHealthyReleaseLive(t *testing.T) {
	blue, green := newStaticApp(t, "v1"), newStaticApp(t, "v2")
	blue.fail.Store(5)
	green.fail.Store(5)
	in := newStaticInstance(t, blue, green, "guard:\n  window: 5s\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	in.deploy("v2")
	l := startSteadyLoad(t, "http://"+in.listen+"/")
	l.waitRequests(t, 1000)
	res := <-goLiveWatch(t, in)
	l.end()
	out, code := res[0].(string), res[1].(int)
	if code != 0 || !strings.Contains(out, "guard: watching v2 on green") || !strings.Contains(out, "guard: v2 passed: ") {
		t.Errorf("go-live --watch = exit %d:\n%s\nwant exit 0, v2 passed", code, out)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v2" {
		t.Errorf("production = %s, want v2", rel)
	}
	hist, _ := in.cl.Deployments(context.Background(), 1)
	if len(hist) != 1 || hist[0].State != store.StateLive || hist[0].Error != "" {
		t.Errorf("v2's record = %+v, want live", hist)
	}
}

// TestGuardRollsBackWhenTheProcessExits: with the process driver, the new
// live release's process dying during the window is a rollback at once,
// before any traffic says so.
func TestGuardRollsBackWhenTheProcessExits(t *testing.T) {
	in := newInstance(t, "guard:\n  window: 1m\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	in.deploy("v2")
	st, err := in.cl.GoLive(context.Background(), "ship")
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, cs := range st.Colors {
		if cs.Live && cs.Version == "v2" {
			pid = cs.PID
		}
	}
	if pid == 0 {
		t.Fatalf("no pid for v2 in %+v", st.Colors)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	var g *deploy.GuardStatus
	waitFor(t, 10*time.Second, "the guard's verdict", func() bool {
		s, err := in.cl.GoLiveState(context.Background())
		g = s.Guard
		return err == nil && g != nil && g.Final()
	})
	if g.State != deploy.GuardRolledBack || !strings.Contains(g.Reason, "process exited") {
		t.Errorf("guard = %s %q, want rolled back because the process exited", g.State, g.Reason)
	}
	if rel, code := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v1" || code != 200 {
		t.Errorf("production = %s %d, want v1", rel, code)
	}
}
