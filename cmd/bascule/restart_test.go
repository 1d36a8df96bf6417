package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// TestKill9DuringDeploy kills bascule at each running step of a deployment
// and starts it again: production is served from the persisted table as soon
// as the router listens, the live app is adopted (same pid, no duplicate),
// the interrupted deployment is failed and its candidate stopped.
func TestKill9DuringDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills bascule")
	}
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "start_delay=30s\n")
	ctx := context.Background()
	before, err := in.cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	livePID := before.Colors[0].PID

	d, err := in.cl.Deploy(ctx, "v2", "will be interrupted")
	if err != nil {
		t.Fatal(err)
	}
	var candidate int
	waitFor(t, 10*time.Second, "the candidate to start", func() bool {
		st, err := in.cl.Status(ctx)
		if err == nil && st.Colors[1].Running {
			candidate = st.Colors[1].PID
		}
		return candidate != 0
	})
	in.kill()
	if processGone(livePID) {
		t.Fatal("the live app died with bascule; it must keep serving")
	}

	in.start()
	if rel, code := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v1" || code != 200 {
		t.Errorf("production right after restart = %s %d, want v1 200", rel, code)
	}
	after, err := in.cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Colors[0]; got.PID != livePID || !got.Live || !got.Healthy {
		t.Errorf("blue after restart = %+v, want the adopted pid %d, live and healthy", got, livePID)
	}
	waitFor(t, 10*time.Second, "the interrupted candidate to be stopped", func() bool { return processGone(candidate) })
	got, err := in.cl.Deployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.StateFailed || !strings.Contains(got.Error, "interrupted") {
		t.Errorf("interrupted deployment = %s %q, want failed, interrupted", got.State, got.Error)
	}
	// Deploying again works: the lock was released.
	in.addRelease("v3", "")
	if d := in.deploy("v3"); d.State != store.StateReady {
		t.Errorf("deploy after recovery = %s %s, want ready", d.State, d.Error)
	}
}

// TestGracefulStopLeavesNoOrphans: SIGTERM to bascule stops its apps too.
func TestGracefulStopLeavesNoOrphans(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	st, err := in.cl.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in.stop()
	if pid := st.Colors[0].PID; !processGone(pid) {
		t.Errorf("app pid %d still runs after bascule stopped", pid)
	}
}
