package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/store"
)

func TestAutoGoLive(t *testing.T) {
	in := newInstance(t, "auto_go_live: true\n")
	in.start()
	in.addRelease("v1", "")
	if d := in.deploy("v1"); d.State != store.StateLive {
		t.Fatalf("deploy v1 with auto_go_live = %s (%s), want live", d.State, d.Error)
	}
	in.addRelease("v2", "")
	d := in.deploy("v2")
	if d.State != store.StateLive || d.Steps[len(d.Steps)-1].Name != "go-live" {
		t.Fatalf("deploy v2 with auto_go_live = %s, last step %+v; want live after a go-live step", d.State, d.Steps[len(d.Steps)-1])
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v2" {
		t.Errorf("production = %s, want v2 without a click", rel)
	}
}

// TestRollbackStartsAStoppedColor: the previous color's process is gone (as
// after a host reboot); rollback starts it, health-checks it, then switches.
func TestRollbackStartsAStoppedColor(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	in.liveWith("v2")
	ctx := context.Background()
	st, err := in.cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := st.Colors[0]
	if old.Version != "v1" || !old.Running {
		t.Fatalf("blue = %+v, want v1 running", old)
	}
	syscall.Kill(old.PID, syscall.SIGKILL) // the app bascule started for this test
	waitFor(t, 5*time.Second, "blue's process to be gone", func() bool { return processGone(old.PID) })
	waitFor(t, 5*time.Second, "bascule to notice", func() bool {
		st, _ := in.cl.Status(ctx)
		return !st.Colors[0].Running
	})
	if _, err := in.cl.Rollback(ctx, "v2 is broken", false); err != nil {
		t.Fatalf("rollback to a stopped color = %v, want it started first", err)
	}
	if rel, code := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v1" || code != 200 {
		t.Errorf("production after rollback = %s %d, want v1", rel, code)
	}
}

// TestKill9WhileReady: a deployment that was ready survives a crash of
// bascule: its app is adopted and it can still go live.
func TestKill9WhileReady(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills bascule")
	}
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	d := in.deploy("v2")
	if d.State != store.StateReady {
		t.Fatal(d.State)
	}
	in.kill()
	in.start()
	got, err := in.cl.Deployment(context.Background(), d.ID)
	if err != nil || got.State != store.StateReady {
		t.Fatalf("ready deployment after a restart = %s, %v; want still ready", got.State, err)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+in.listen+"/", "X-Bascule-Preview", previewToken); rel != "v2" {
		t.Errorf("preview after restart = %s, want v2", rel)
	}
	if _, err := in.cl.GoLive(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v2" {
		t.Errorf("production after go-live = %s, want v2", rel)
	}
}

// TestStaticDriver: upstreams that something else runs. A deploy only
// health-checks the idle color and records the release.
func TestStaticDriver(t *testing.T) {
	upstream := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Release", name)
			fmt.Fprintln(w, name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	blue, green := upstream("blue-app"), upstream("green-app")
	dir := t.TempDir()
	listen, control := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf("listen: %s\ncontrol: %s\ndata_dir: %s\nhealth_check:\n  start_timeout: 2s\nruntime:\n  driver: static\n  static:\n    blue: %s\n    green: %s\n",
		listen, control, dir, blue.Listener.Addr(), green.Listener.Addr())
	path := filepath.Join(dir, "bascule.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	in := &instance{t: t, dir: dir, config: path, listen: listen, control: control,
		cl: &client.Client{BaseURL: "http://" + control, Token: adminToken}}
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady || d.Color != "green" {
		t.Fatalf("static deploy = %s on %s", d.State, d.Color)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+listen+"/"); rel != "blue-app" {
		t.Errorf("production = %s, want blue-app", rel)
	}
	if _, err := in.cl.GoLive(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+listen+"/"); rel != "green-app" {
		t.Errorf("production after go-live = %s, want green-app", rel)
	}
	blue.Close() // the idle color's upstream goes down
	in.addRelease("v3", "")
	if d := in.deploy("v3"); d.State != store.StateFailed || d.Color != "blue" {
		t.Errorf("deploy to a static color that is down = %s on %s, want failed on blue", d.State, d.Color)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+listen+"/"); rel != "green-app" {
		t.Errorf("production after the failed deploy = %s, want green-app", rel)
	}
}

// TestConcurrencyLimit: with concurrency.limit 1, a request that arrives
// while the app works on a slow one waits in bascule, shows in the status
// API and the bascule_queued_requests metric, and gets a 503 that says why
// once queue_timeout passes; the slow one is served, and the slot is free
// again.
func TestConcurrencyLimit(t *testing.T) {
	in := newInstance(t, "concurrency: {limit: 1, queue_timeout: 2s}\n")
	in.start()
	in.liveWith("v1")
	base := "http://" + in.listen
	c := &http.Client{Timeout: 10 * time.Second}

	type answer struct {
		code int
		body string
		err  error
	}
	fetch := func(url string, out chan<- answer) {
		resp, err := c.Get(url)
		if err != nil {
			out <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		out <- answer{resp.StatusCode, string(b), err}
	}
	slow, waiting := make(chan answer, 1), make(chan answer, 1)
	go fetch(base+"/sleep?ms=4000", slow)
	waitFor(t, 5*time.Second, "the slow request to reach the app", func() bool {
		st, err := in.cl.Status(context.Background())
		return err == nil && len(st.Colors) > 0 && st.Colors[0].InFlight == 1
	})
	go fetch(base+"/", waiting)
	waitFor(t, 5*time.Second, "the status API to show the queued request", func() bool {
		st, err := in.cl.Status(context.Background())
		return err == nil && len(st.Colors) > 0 && st.Colors[0].Queued == 1 && st.Colors[0].InFlight == 2
	})
	if out, code := runCLI(t, in, "status"); code != 0 || !strings.Contains(out, "2 (1 queued)") {
		t.Errorf("bascule status while one request is queued = exit %d:\n%s\nwant IN FLIGHT 2 (1 queued)", code, out)
	}
	waitFor(t, 5*time.Second, `bascule_queued_requests{color="blue"} 1 in /metrics`, func() bool {
		req, _ := http.NewRequest("GET", "http://"+in.control+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken) // as Prometheus sends it
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `bascule_queued_requests{color="blue"} 1`+"\n")
	})
	want := "bascule: the release on blue is busy: it is already working on 1 requests, and this one waited 2s for its turn\n"
	if a := <-waiting; a.err != nil || a.code != http.StatusServiceUnavailable || a.body != want {
		t.Errorf("request over the limit = %d %q (%v), want 503 %q", a.code, a.body, a.err, want)
	}
	if a := <-slow; a.err != nil || a.code != http.StatusOK {
		t.Errorf("slow request = %d %q (%v), want 200", a.code, a.body, a.err)
	}
	if rel, code := get(t, c, base+"/"); code != http.StatusOK || rel != "v1" {
		t.Errorf("request after the slow one = %d from %q, want 200 from v1: the slot was not given back", code, rel)
	}
}
