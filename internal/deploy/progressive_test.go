package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
)

// userColors sends one request for each of n users (each with its own
// cohort cookie) and returns the color each got, by the backend that
// answered.
func (s *guardStack) userColors(t *testing.T, n int) []router.Color {
	t.Helper()
	out := make([]router.Color, n)
	c := &http.Client{Timeout: 5 * time.Second}
	for i := range n {
		req, _ := http.NewRequest("GET", s.front+"?who", nil)
		req.Header.Set("Cookie", fmt.Sprint("bascule_cohort=user-", i))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		out[i] = router.Color(resp.Header.Get("X-App"))
	}
	return out
}

func (s *guardStack) progress() *deploy.Progressive {
	st, err := s.svc.GoLiveState(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return st.Progressive
}

func (s *guardStack) waitPercent(t *testing.T, pct int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p := s.progress()
		if (p != nil && p.Percent == pct) || (pct == 100 && p == nil && s.router.Table().Live == router.Green) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not at %d%% after %s: %+v, table %+v", pct, timeout, p, s.router.Table())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestProgressiveGoLiveStepsThrough: steps 10,50,100 move a growing share
// of users to v2, each staying on one color at each step and never moving
// back; the last step is the switch, and the record tells every step.
// Each step is paused while its users are counted.
func TestProgressiveGoLiveStepsThrough(t *testing.T) {
	s := newGuardStack(t, testGuard, false)
	s.v1LiveV2Ready()
	st, err := s.svc.GoLiveProgressive(context.Background(), "alice", "carefully", []int{10, 50, 100}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p := st.Progressive; p == nil || p.Percent != 10 || p.To != router.Green || p.Version != "v2" {
		t.Fatalf("status after the first step = %+v, want 10%% of users on green", st.Progressive)
	}
	if tb := s.router.Table(); tb.Live != router.Blue || tb.Split == nil || tb.Split.Weight != 10_000 {
		t.Fatalf("table at 10%% = %+v", tb)
	}
	onGreen := map[int]bool{}
	for _, pct := range []int{10, 50} {
		s.waitPercent(t, pct, 5*time.Second)
		// Held at the step while its users are counted, however slow the
		// machine; then it goes on by itself.
		if _, err := s.svc.Pause(context.Background(), "alice", "counting"); err != nil {
			t.Fatal(err)
		}
		first, again := s.userColors(t, 400), s.userColors(t, 400)
		if _, err := s.svc.Resume(context.Background(), "alice", ""); err != nil {
			t.Fatal(err)
		}
		green := 0
		for i := range first {
			if first[i] != again[i] {
				t.Fatalf("at %d%%, user %d got %s then %s", pct, i, first[i], again[i])
			}
			if first[i] == router.Green {
				green++
				onGreen[i] = true
			} else if onGreen[i] {
				t.Fatalf("user %d went back to blue at %d%%", i, pct)
			}
		}
		if share := 100 * green / 400; share < pct-8 || share > pct+8 {
			t.Errorf("at %d%%, %d%% of users on green", pct, share)
		}
	}
	s.waitPercent(t, 100, 5*time.Second)
	if tb := s.router.Table(); tb.Split != nil || tb.Live != router.Green {
		t.Errorf("table after the last step = %+v, want green live, no split", tb)
	}
	d := s.deployment("v2")
	var goLive store.Step
	for _, st := range d.Steps {
		if st.Name == deploy.StepGoLive {
			goLive = st
		}
	}
	if d.State != store.StateLive || goLive.State != store.StepDone || goLive.Message != "all production traffic on green" {
		t.Errorf("v2 = %s, go-live step %+v; want live, done", d.State, goLive)
	}
	var steps []string
	for _, e := range s.audit("alice") {
		steps = append(steps, e.Action+": "+e.Detail)
	}
	if got := strings.Join(steps, "\n"); !strings.Contains(got, "go-live: progressive, steps 10,50,100 every 1s, 10% of users on green") ||
		!strings.Contains(got, "pause: 10% of users on green (step 1 of 3: 10,50,100, every 1s), paused: counting") {
		t.Errorf("alice's audit entries:\n%s", got)
	}
	if e := s.audit("bascule"); len(e) != 2 || !strings.HasPrefix(e[1].Detail, "50% of users on green (step 2 of 3") ||
		e[0].Detail != "all production traffic on green" {
		t.Errorf("bascule's audit entries = %+v, want step 2 then the last", e)
	}
}

// TestProgressiveBreachReturnsEveryone: v2 fails requests at 10 %; the
// guard rolls back: every user on v1 again, v2's record says why.
func TestProgressiveBreachReturnsEveryone(t *testing.T) {
	s := newGuardStack(t, testGuard, false)
	s.v1LiveV2Ready()
	s.green.failEvery.Store(2)
	l := s.startLoad()
	l.waitRequests(t, 200)
	if _, err := s.svc.GoLiveProgressive(context.Background(), "alice", "", []int{10, 50, 100}, time.Minute); err != nil {
		t.Fatal(err)
	}
	// The load keeps no cookie: each request is a new user, a tenth of
	// them on green.
	g := s.waitGuard(10 * time.Second)
	l.end()
	if g.State != deploy.GuardRolledBack {
		t.Fatalf("guard = %s %q, want rolled_back", g.State, g.Reason)
	}
	if tb := s.router.Table(); tb.Live != router.Blue || tb.Split != nil {
		t.Errorf("table after the breach = %+v, want blue, no split", tb)
	}
	if s.progress() != nil {
		t.Errorf("progressive go-live still in progress after the rollback")
	}
	for i, c := range s.userColors(t, 200) {
		if c != router.Blue {
			t.Fatalf("user %d on %s after the rollback, want blue", i, c)
		}
	}
	d := s.deployment("v2")
	if d.State != store.StateRolledBack || !strings.HasPrefix(d.Error, "guard: ") {
		t.Errorf("v2 = %s %q, want rolled_back by the guard", d.State, d.Error)
	}
	if e := s.audit("guard"); len(e) != 1 || !strings.HasPrefix(e[0].Detail, "green → blue at 10% (v2): guard: ") {
		t.Errorf("guard's audit = %+v", e)
	}
}

// TestProgressivePausePromote: a paused go-live stays at its step; resumed
// it carries on; promoted it goes to 100 % at once.
func TestProgressivePausePromote(t *testing.T) {
	s := newGuardStack(t, testGuard, false)
	s.v1LiveV2Ready()
	ctx := context.Background()
	if _, err := s.svc.GoLiveProgressive(ctx, "alice", "", []int{10, 50, 100}, time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := s.svc.Pause(ctx, "bob", "watching the dashboards")
	if err != nil || st.Progressive == nil || !st.Progressive.Paused || !st.Progressive.NextAt.IsZero() {
		t.Fatalf("Pause = %+v, %v", st.Progressive, err)
	}
	if _, err := s.svc.Pause(ctx, "bob", ""); !isConflict(err) {
		t.Errorf("Pause twice = %v, want a conflict", err)
	}
	time.Sleep(1500 * time.Millisecond) // more than an interval: a running go-live would have moved on
	if p := s.progress(); p == nil || p.Percent != 10 {
		t.Fatalf("paused go-live = %+v, want still at 10%%", p)
	}
	if _, err := s.svc.Resume(ctx, "bob", ""); err != nil {
		t.Fatal(err)
	}
	s.waitPercent(t, 50, 3*time.Second)
	if _, err := s.svc.Promote(ctx, "carol", "enough"); err != nil {
		t.Fatal(err)
	}
	if tb := s.router.Table(); tb.Live != router.Green || tb.Split != nil || s.progress() != nil {
		t.Errorf("after Promote: table %+v, progressive %+v; want green live", tb, s.progress())
	}
	if _, err := s.svc.Promote(ctx, "carol", ""); !isConflict(err) {
		t.Errorf("Promote with nothing in progress = %v, want a conflict", err)
	}
	if e := s.audit("carol"); len(e) < 1 || e[len(e)-1].Action != "promote" || !strings.Contains(e[len(e)-1].Detail, "promoted by carol at step 3 of 3") {
		t.Errorf("carol's audit = %+v", e)
	}
}

// TestProgressiveRefusals: what a progressive go-live rules out, and bad
// steps.
func TestProgressiveRefusals(t *testing.T) {
	s := newGuardStack(t, testGuard, false)
	s.v1LiveV2Ready()
	ctx := context.Background()
	for _, steps := range [][]int{{}, {10, 5, 100}, {10, 50}, {0, 100}, {10, 101}} {
		var ie *deploy.InputError
		if _, err := s.svc.GoLiveProgressive(ctx, "alice", "", steps, time.Minute); !errors.As(err, &ie) {
			t.Errorf("steps %v = %v, want an input error", steps, err)
		}
	}
	var ie *deploy.InputError
	if _, err := s.svc.GoLiveProgressive(ctx, "alice", "", []int{50, 100}, time.Millisecond); !errors.As(err, &ie) {
		t.Errorf("interval 1ms = %v, want an input error", err)
	}
	if _, err := s.svc.GoLiveProgressive(ctx, "alice", "", []int{1, 100}, time.Hour); err != nil {
		t.Fatal(err)
	}
	s.addRelease("v3")
	if _, err := s.svc.Deploy(ctx, "v3", "", "alice"); !isConflict(err) {
		t.Errorf("Deploy during a progressive go-live = %v, want a conflict", err)
	}
	if _, err := s.svc.GoLive(ctx, "alice", ""); !isConflict(err) || !strings.Contains(err.Error(), "promote it to 100%") {
		t.Errorf("GoLive during a progressive go-live = %v, want a conflict saying to promote", err)
	}
	if _, err := s.svc.Finalize(ctx, "alice", ""); !isConflict(err) {
		t.Errorf("Finalize during a progressive go-live = %v, want a conflict", err)
	}
	if _, err := s.svc.GoLiveProgressive(ctx, "alice", "", []int{1, 100}, time.Hour); !isConflict(err) {
		t.Errorf("a second progressive go-live = %v, want a conflict", err)
	}
	// A person's rollback returns everyone.
	if _, err := s.svc.Rollback(ctx, "bob", "not now", false); err != nil {
		t.Fatal(err)
	}
	if tb := s.router.Table(); tb.Live != router.Blue || tb.Split != nil {
		t.Errorf("table after the rollback = %+v", tb)
	}
	if d := s.deployment("v2"); d.State != store.StateRolledBack || d.Error != "" {
		t.Errorf("v2 after a person's rollback = %s %q", d.State, d.Error)
	}
	// Go-live and rollback alternate, step by step too.
	if _, err := s.svc.GoLiveProgressive(ctx, "alice", "again", []int{20, 100}, time.Hour); err != nil {
		t.Errorf("a progressive go-live of the release rolled back = %v", err)
	}
	if p := s.progress(); p == nil || p.Percent != 20 || p.Version != "v2" {
		t.Errorf("progressive go-live again = %+v", p)
	}
}

func isConflict(err error) bool {
	var ce *deploy.ConflictError
	return errors.As(err, &ce)
}

// TestProgressiveSurvivesRestart: bascule stops at 10 %; the next start
// serves the same split (same cohorts), and carries the go-live on to its
// end.
func TestProgressiveSurvivesRestart(t *testing.T) {
	s := newGuardStack(t, guard.Config{}, false)
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLiveProgressive(context.Background(), "alice", "", []int{10, 100}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	// Held at 10% while its users are counted and bascule restarts,
	// however slow the machine; then it goes on by itself.
	if _, err := s.svc.Pause(context.Background(), "alice", "counting"); err != nil {
		t.Fatal(err)
	}
	before := s.userColors(t, 300)
	s.svc.Close()
	s.restart(t)
	if p := s.progress(); p == nil || p.Percent != 10 || !p.Resumed || !p.Paused {
		t.Fatalf("after the restart: %+v, want the go-live resumed at 10%%, paused", p)
	}
	after := s.userColors(t, 300)
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("user %d: %s before the restart, %s after", i, before[i], after[i])
		}
	}
	if _, err := s.svc.Resume(context.Background(), "alice", ""); err != nil {
		t.Fatal(err)
	}
	s.waitPercent(t, 100, 5*time.Second)
}

// TestProgressiveCarriedOverFromAnOlderBascule: a go-live in progress that
// an older bascule kept in its data directory (golive.json) is carried on
// by this one, moved into the store, and its file removed.
func TestProgressiveCarriedOverFromAnOlderBascule(t *testing.T) {
	s := newGuardStack(t, guard.Config{}, false)
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLiveProgressive(context.Background(), "alice", "", []int{10, 100}, time.Hour); err != nil {
		t.Fatal(err)
	}
	before := s.userColors(t, 300)
	s.svc.Close()
	// What an older bascule left: the state in the file, none in the store.
	stored, err := s.db.Progressive(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(s.dataDir, "golive.json")
	if err := os.WriteFile(file, stored.State, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.db.DeleteProgressive(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	s.restart(t)
	if p := s.progress(); p == nil || p.Percent != 10 || !p.Resumed {
		t.Fatalf("after the restart: %+v, want the older bascule's go-live resumed at 10%%", p)
	}
	after := s.userColors(t, 300)
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("user %d: %s before the restart, %s after", i, before[i], after[i])
		}
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("golive.json after it was carried over: %v, want it removed", err)
	}
	if got, err := s.db.Progressive(context.Background(), "shop"); err != nil || string(got.State) == "" {
		t.Errorf("the stored go-live after the carry-over = %+v, %v; want it in the store", got, err)
	}
}

// restart builds what bascule serve builds at a start, over the same data
// directory, store and apps: a router that installs the persisted table,
// then a deploy service that recovers.
func (s *guardStack) restart(t *testing.T) {
	t.Helper()
	table, err := router.LoadTable(s.dataDir + "/routing.json")
	if err != nil {
		t.Fatal(err)
	}
	*s = *newGuardStackOn(t, s, &table)
}
