package main

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// TestGuardRollsBackThroughARouterProcess: production reaches the apps
// only through a `bascule router` process, none through the router inside
// bascule serve. A release that fails 30 % of its requests is rolled back
// by the guard, which judges from the router's counters as its heartbeats
// report them, within seconds of the go-live. Before the guard read the
// fleet's counters it saw no request at all, and the failing release
// stayed live for the whole window.
func TestGuardRollsBackThroughARouterProcess(t *testing.T) {
	blue, green := newStaticApp(t, "v1"), newStaticApp(t, "v2")
	green.fail.Store(300)
	in := newStaticInstance(t, blue, green, "guard:\n  window: 1m\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s)", d.State, d.Error)
	}
	ctx := context.Background()
	_, token, err := in.cl.CreateToken(ctx, "edge", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	r1 := startRouterProc(t, "r1", "http://"+in.control, token, t.TempDir())
	waitFor(t, 20*time.Second, "r1 in step", func() bool { return confirmed(t, in.cl, "r1") })
	l := startSteadyLoad(t, "http://"+r1.listen+"/")
	l.waitRequests(t, 1500) // v1's baseline, through r1 only

	start := time.Now()
	if _, err := in.cl.GoLive(ctx, "ship it"); err != nil {
		t.Fatalf("GoLive = %v", err)
	}
	var g *deploy.GuardStatus
	waitFor(t, 20*time.Second, "the guard's verdict on v2", func() bool {
		s, err := in.cl.GoLiveState(ctx)
		g = s.Guard
		return err == nil && g != nil && g.Version == "v2" && g.Final()
	})
	took := time.Since(start)
	l.waitRequests(t, 500) // users carry on, on v1 again
	l.end()

	t.Logf("guard on v2: %s after %s: %s (%d requests seen, baseline %d)", g.State, took.Round(time.Millisecond), g.Reason, g.Requests, g.BaselineRequests)
	if g.State != deploy.GuardRolledBack || !strings.Contains(g.Reason, "requests failed (5xx)") {
		t.Errorf("guard = %s %q, want rolled back for v2's 5xx", g.State, g.Reason)
	}
	if g.BaselineRequests < 1000 {
		t.Errorf("the guard's baseline = %d requests, want v1's through r1 (about 1,500)", g.BaselineRequests)
	}
	if took > 10*time.Second {
		t.Errorf("rolled back %s after go-live, want within 10s", took)
	}
	if n, ok := l.byRelease.Load("v2"); !ok || n.(*atomic.Int64).Load() == 0 {
		t.Error("no user request reached v2 through r1: the test proves nothing")
	}
	hist, err := in.cl.Deployments(ctx, 1)
	if err != nil || len(hist) == 0 || hist[0].Version != "v2" || hist[0].State != store.StateRolledBack || !strings.HasPrefix(hist[0].Error, "guard: ") {
		t.Errorf("v2's record = %+v, %v; want rolled_back by the guard", hist, err)
	}
	waitFor(t, 10*time.Second, "r1 in step after the rollback", func() bool { return confirmed(t, in.cl, "r1") })
	if rel, _ := get(t, http.DefaultClient, "http://"+r1.listen+"/"); rel != "v1" {
		t.Errorf("r1 after the rollback answers from %s, want v1", rel)
	}
}
