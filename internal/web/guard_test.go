package web_test

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/guard"
)

// TestOverviewShowsTheGuard: after a go-live the overview shows the guard
// live (what it watches, time left, counts against the baseline), and then
// its verdict: here a rollback, with the reason.
func TestOverviewShowsTheGuard(t *testing.T) {
	meter := guard.NewMeter(time.Minute, time.Second)
	s := newStack(t, func(o *deploy.Options) {
		o.Guard = guard.Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 20}
		o.Traffic, o.GuardTick = meter, 10*time.Millisecond
	})
	meter.Record(time.Now()) // as Meter.Run does when bascule starts
	s.liveWithNext()
	for range 500 { // v1's traffic before the switch: the baseline
		meter.Observe("blue", 200, 3*time.Millisecond)
	}
	b := s.login("dana")
	if _, err := s.deploy.GoLive(context.Background(), "dana", "ship"); err != nil {
		t.Fatal(err)
	}
	body := html.UnescapeString(b.get("/").body)
	for _, want := range []string{`class="guard guard-watching"`, "Watching <strong>v2</strong> on green", " left</span>",
		"0 requests, 0% failed (baseline 0% of 500)", "limit 2%. No breach so far."} {
		if !strings.Contains(body, want) {
			t.Errorf("overview while the guard watches lacks %q", want)
		}
	}
	// What the router would count of v2: every request failing.
	for range 40 {
		meter.Observe("green", 502, time.Millisecond)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if g, ok := s.deploy.GuardStatus(); ok && g.Final() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the guard did not end within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	body = html.UnescapeString(b.get("/").body)
	want := "The guard rolled <strong>v2</strong> back to blue: 100% of "
	if !strings.Contains(body, `class="guard guard-rolled_back"`) || !strings.Contains(body, want) ||
		!strings.Contains(body, "requests failed (5xx), limit 2%, baseline 0%. Deploying it again needs a person") {
		i := strings.Index(body, `class="guard`)
		t.Errorf("overview after the guard's rollback lacks %q and its reason:\n%s", want, body[max(i, 0):min(len(body), max(i, 0)+600)])
	}
	if s.live() != "blue" {
		t.Errorf("live = %s, want blue", s.live())
	}
}
