package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/store"
)

// inStep reports whether the fleet, as cl's instance sees it, counts n
// routers that are not stale, and every one of them serves and drained
// the fleet's generation.
func inStep(cl *client.Client, n int) (fleet.Fleet, bool) {
	f, err := cl.Routers(context.Background())
	if err != nil {
		return f, false
	}
	live := 0
	for _, r := range f.Routers {
		if r.Stale {
			continue
		}
		live++
		if r.Installed != f.Generation || r.Drained != f.Generation {
			return f, false
		}
	}
	return f, live == n
}

// TestSharedRoutingTableAcrossControlPlanes is issue 16's control plane of
// several instances with routers, as real processes on one PostgreSQL
// store: two `bascule serve` (a leads, b follows) and a `bascule router`
// that follows b's routing stream and heartbeats to b. Under load through
// the three routers (r1, a's and b's embedded ones), go-live and rollback
// through the leader reach r1 and b's router, and once a call returns no
// request reaches the old color through any of them. Then a is killed:
// b leads and publishes the stored table under a generation above the
// last, which r1 and b's router install. (b cannot switch colors it did
// not start yet: the release files are on a's disk until they are kept
// in the store.)
func TestSharedRoutingTableAcrossControlPlanes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two bascule serve, a bascule router and PostgreSQL")
	}
	const ttl = 3 * time.Second
	a, b, blue, green := twoInstancesOnPostgres(t, ttl, "drain_timeout: 5s\n")
	a.liveWith("v1")
	a.addRelease("v2", "")
	if d := a.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s)", d.State, d.Error)
	}
	apps := map[string]userClock{"v1": blue, "v2": green}

	// The follower's own router alone beside the leader's: it installs
	// each switch from the store, and the call waits for its
	// acknowledgement, sent to the leader.
	waitFor(t, 20*time.Second, "both embedded routers in step, seen from the leader", func() bool {
		_, ok := inStep(a.cl, 2)
		return ok
	})
	l := startFleetLoad(t, 300, []string{b.listen})
	time.Sleep(300 * time.Millisecond) // steady load first; nothing to await
	switchCycles(t, a, l, []string{b.listen}, apps, 2, "follower's router")
	l.end()

	_, token, err := a.cl.CreateToken(context.Background(), "edge", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	r1 := startRouterProc(t, "r1", "http://"+b.control, token, t.TempDir())
	var f fleet.Fleet
	waitFor(t, 20*time.Second, "r1 and both embedded routers in step, seen from the leader", func() bool {
		var ok bool
		f, ok = inStep(a.cl, 3)
		return ok
	})
	t.Logf("in step at generation %d: %d routers", f.Generation, len(f.Routers))

	addrs := []string{r1.listen, b.listen, a.listen}
	l = startFleetLoad(t, 300, addrs)
	time.Sleep(500 * time.Millisecond) // steady load first; nothing to await
	calls, _ := switchCycles(t, a, l, addrs, apps, 5, "shared table test")
	l.end()
	t.Logf("switch calls through the leader, every router acknowledged: %s", summary(calls))
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, l.total.Load(), l.firstErr.Load())
	}
	before, ok := inStep(a.cl, 3)
	if !ok {
		t.Fatalf("routers after the cycles, seen from the leader: %+v; want all three in step", before.Routers)
	}
	if fb, err := b.cl.Routers(context.Background()); err != nil || fb.Generation != before.Generation {
		t.Errorf("the follower's generation = %d (%v), want the leader's %d", fb.Generation, err, before.Generation)
	}

	// The leader dies; b takes over and publishes the stored table (v2
	// live, after an odd number of cycles) above the last generation.
	a.kill()
	waitFor(t, 3*ttl, "b to take over", func() bool { v, err := b.leader(t); return err == nil && v.Leading })
	var after fleet.Fleet
	waitFor(t, 20*time.Second, "r1 and b's router in step under b", func() bool {
		after, ok = inStep(b.cl, 2)
		return ok && after.Generation > before.Generation
	})
	t.Logf("b leads at generation %d (a's last: %d)", after.Generation, before.Generation)
	// While nobody led, r1's heartbeats to b went on to the leader that
	// was: b forwards them (router role and all) rather than keeping them.
	if log := b.stderr.String(); !strings.Contains(log, `msg="forward to the leader"`) || !strings.Contains(log, "path=/api/v1/routers/heartbeat") {
		t.Errorf("b's log shows no heartbeat of r1 forwarded to the leader:\n%s", log)
	}
	for _, addr := range []string{r1.listen, b.listen} {
		if rel, _ := get(t, http.DefaultClient, "http://"+addr+"/"); rel != "v2" {
			t.Errorf("router %s answers from %s under the new leader, want v2: the fleet's table", addr, rel)
		}
	}
	out, _ := runCLI(t, b, "router", "list")
	if !strings.Contains(out, "r1") {
		t.Errorf("router list on the new leader does not list r1:\n%s", out)
	}
	t.Logf("bascule router list on the new leader:\n%s", out)
}
