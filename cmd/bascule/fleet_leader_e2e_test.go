package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// TestFleetLeaderKilledUnderLoad is issue 16's last fleet test, with real
// processes: two `bascule serve` instances share one PostgreSQL store,
// three `bascule router` processes follow either instance, and users send
// about 1,000 requests a second through the routers. A deployment asked
// through the follower runs on the leader, which is killed with SIGKILL in
// the middle of it. Users see no failure: the routers keep serving the
// live release; those that followed the dead leader move to the other
// instance, which takes over within the lease's TTL from the routing table
// in the shared store (not from its own), fails the interrupted
// deployment, and then deploys, goes live and rolls back with every router
// (its own embedded one included) switching as one.
func TestFleetLeaderKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, two bascule serve and three bascule router processes")
	}
	gate := t.TempDir()
	goAhead := filepath.Join(gate, "go")
	// The smoke test waits for the test's go-ahead (a minute at most, so
	// that an orphan never outlives the test long).
	script := fmt.Sprintf(`i=0; while [ ! -e %s ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done; echo smoke passed`, goAhead)
	t.Cleanup(func() { os.WriteFile(goAhead, nil, 0o644) })
	const ttl = 3 * time.Second
	a, b, blue, green := twoInstancesOnPostgres(t, ttl, fmt.Sprintf(`drain_timeout: 5s
smoke_test:
  command: ["sh", "-c", %q]
  timeout: 60s
`, script))

	// v1 live, through the follower, the smoke test let through once.
	os.WriteFile(goAhead, nil, 0o644)
	b.liveWith("v1")
	os.Remove(goAhead)

	ctx := context.Background()
	_, token, err := b.cl.CreateToken(ctx, "edge", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	controls := "http://" + a.control + ",http://" + b.control
	var routers []*routerProc
	for _, id := range []string{"r1", "r2", "r3"} {
		routers = append(routers, startRouterProc(t, id, controls, token, t.TempDir()))
	}
	waitFor(t, 20*time.Second, "three routers in step", func() bool { return confirmed(t, b.cl, "r1", "r2", "r3") })
	addrs := addrsOf(routers)
	l := startFleetLoad(t, 1000, addrs)
	time.Sleep(time.Second) // steady load first; nothing to await

	// A deployment through the follower, running on the leader, whose
	// smoke test blocks: the leader is killed in the middle of it.
	b.addRelease("v2", "")
	d, err := b.cl.Deploy(ctx, "v2", "ci")
	if err != nil {
		t.Fatalf("Deploy through the follower = %v", err)
	}
	waitFor(t, 20*time.Second, "the deployment to reach its smoke test", func() bool {
		got, err := b.cl.Deployment(ctx, d.ID)
		if err != nil {
			return false
		}
		for _, s := range got.Steps {
			if s.Name == "smoke" && s.State == "running" {
				return true
			}
		}
		return false
	})
	a.kill()
	killed := time.Now()
	var took time.Duration
	waitFor(t, 3*ttl, "the follower to take over", func() bool {
		v, err := b.leader(t)
		if err == nil && v.Leading {
			took = time.Since(killed)
			return true
		}
		return false
	})
	t.Logf("takeover %s after kill -9 of the leader (lease TTL %s)", took.Round(time.Millisecond), ttl)
	waitFor(t, 10*time.Second, "the new leader to fail the interrupted deployment", func() bool {
		got, err := b.cl.Deployment(ctx, d.ID)
		return err == nil && got.State == store.StateFailed
	})
	waitFor(t, 20*time.Second, "the routers to follow the new leader", func() bool { return confirmed(t, b.cl, "r1", "r2", "r3") })
	for _, r := range routers {
		if rel, _ := get(t, http.DefaultClient, "http://"+r.listen+"/"); rel != "v1" {
			t.Errorf("router %s answers from %q after the takeover, want v1 (still live)", r.id, rel)
		}
	}
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed across the leader's death; first: %v", n, l.total.Load(), l.firstErr.Load())
	}
	t.Logf("through the takeover: %d requests, %d failed", l.total.Load(), l.failed.Load())

	// The dead instance's own router is gone for good: every switch would
	// name it as not confirmed until an operator forgets it.
	var dead string
	waitFor(t, 10*time.Second, "the killed instance's router to be marked stale", func() bool {
		f, err := b.cl.Routers(ctx)
		if err != nil {
			return false
		}
		for _, r := range f.Routers {
			if r.Listen == a.listen && r.Stale {
				dead = r.ID
				return true
			}
		}
		return false
	})
	if err := b.cl.ForgetRouter(ctx, dead); err != nil {
		t.Fatalf("forget %s: %v", dead, err)
	}

	// The new leader deploys again and switches the whole fleet.
	os.WriteFile(goAhead, nil, 0o644)
	if d := b.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 on the new leader = %s (%s)", d.State, d.Error)
	}
	calls, _ := switchCycles(t, b, l, addrs, map[string]userClock{"v1": blue, "v2": green}, 4, "after takeover")
	l.end()
	t.Logf("switch calls on the new leader: %s", summary(calls))
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, l.total.Load(), l.firstErr.Load())
	}
	out, _ := runCLI(t, b, "router", "list")
	t.Logf("bascule router list at the end:\n%s", out)
}
