package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// TestProgressiveGoLiveSurvivesTheLeadersDeath, with real processes: two
// `bascule serve` on one PostgreSQL store. A progressive go-live, asked
// through the follower, holds half of the users on v2 when the leader is
// killed with SIGKILL. The other instance takes over and carries the
// go-live on at its step: every user stays on the release they had (no
// one is sent back and forth), the status of the instance that is left
// says so, and a promotion through it completes the go-live.
func TestProgressiveGoLiveSurvivesTheLeadersDeath(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and two bascule serve processes")
	}
	const ttl = 3 * time.Second
	a, b, _, _ := twoInstancesOnPostgres(t, ttl, "")
	ctx := context.Background()
	b.liveWith("v1")
	b.addRelease("v2", "")
	if d := b.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s)", d.State, d.Error)
	}
	// Steps an hour apart: only the test moves it on.
	if _, err := b.cl.GoLiveProgressive(ctx, "canary", []int{50, 100}, "1h"); err != nil {
		t.Fatalf("progressive go-live through the follower = %v", err)
	}

	// The users, as b's router serves them (a's dies with a).
	const users = 60
	releases := func() map[string]int {
		t.Helper()
		n := map[string]int{}
		for i := range users {
			rel, _ := get(t, http.DefaultClient, "http://"+b.listen+"/", "Cookie", fmt.Sprint("bascule_cohort=user-", i))
			n[fmt.Sprint(i, rel)]++
		}
		return n
	}
	var before map[string]int
	waitFor(t, 10*time.Second, "b's router to split the users", func() bool {
		before = releases()
		v2 := 0
		for k := range before {
			if k[len(k)-2:] == "v2" {
				v2++
			}
		}
		return v2 > 0 && v2 < users
	})

	a.kill()
	killed := time.Now()
	waitFor(t, 3*ttl, "b to take over", func() bool {
		v, err := b.leader(t)
		return err == nil && v.Leading
	})
	waitFor(t, 10*time.Second, "b to carry the go-live on", func() bool {
		gl, err := b.cl.GoLiveState(ctx)
		return err == nil && gl.Progressive != nil && gl.Progressive.Resumed
	})
	t.Logf("the go-live carried on %s after kill -9 of the leader (lease TTL %s)", time.Since(killed).Round(time.Millisecond), ttl)
	if gl, _ := b.cl.GoLiveState(ctx); gl.Progressive.Percent != 50 || gl.Progressive.Version != "v2" {
		t.Errorf("the new leader's go-live = %+v, want v2's at 50%%", gl.Progressive)
	}
	after := releases()
	for k := range before {
		if after[k] == 0 {
			t.Errorf("a user changed release across the takeover (before: %s)", k)
		}
	}
	out, _ := runCLI(t, b, "status")
	t.Logf("bascule status on the new leader:\n%s", out)

	if _, err := b.cl.Promote(ctx, "looks good"); err != nil {
		t.Fatalf("Promote on the new leader = %v", err)
	}
	for i := range users {
		if rel, _ := get(t, http.DefaultClient, "http://"+b.listen+"/", "Cookie", fmt.Sprint("bascule_cohort=user-", i)); rel != "v2" {
			t.Fatalf("user %d gets %q after the promotion, want v2", i, rel)
		}
	}
}
