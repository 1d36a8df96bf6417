package web_test

import (
	"context"
	"html"
	"net/url"
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

// TestOverviewProgressiveGoLive: the go-live form starts a progressive
// go-live; the overview shows where it stands with Promote and Pause (or
// Resume), and Roll back returns to the live color.
func TestOverviewProgressiveGoLive(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	b := s.login("dana")
	r := b.post("/go-live", url.Values{"live": {"blue"}, "steps": {"50,10"}, "interval": {"1h"}, "confirm": {"yes"}})
	if r.status != 400 || !strings.Contains(html.UnescapeString(r.body), "each step must send more users than the one before") {
		t.Errorf("steps 50,10 = %d, want 400 saying why", r.status)
	}
	r = b.post("/go-live", url.Values{"live": {"blue"}, "steps": {"10, 50, 100"}, "interval": {"1h"}, "confirm": {"yes"}, "reason": {"carefully"}})
	if r.status != 303 {
		t.Fatalf("progressive go-live = %d:\n%s", r.status, r.body)
	}
	body := html.UnescapeString(b.get("/?done=go-live").body)
	for _, want := range []string{"Going live step by step: 10% of users on green (v2).", "Going live step by step: v2",
		"<strong>10%</strong> of users on green, step 1 of 3 (10,50,100, each 1h00m), next step at ",
		"Pause at 10%", "Promote to 100% now", "Roll back to v1…", "Every user returns to blue (v1) at once.",
		"The go-live of v2 is in progress (10% of users): promote it or roll back first."} {
		if !strings.Contains(body, want) {
			i := strings.Index(body, "of users on green, step")
			t.Errorf("overview during a progressive go-live lacks %q: %s", want, body[max(0, i-40):min(len(body), i+200)])
		}
	}
	if r := b.post("/go-live/pause", url.Values{"confirm": {"yes"}}); r.status != 303 {
		t.Fatalf("pause = %d", r.status)
	}
	body = html.UnescapeString(b.get("/?done=pause").body)
	if !strings.Contains(body, "The go-live of v2 is paused.") || !strings.Contains(body, ", <strong>paused</strong>.") || !strings.Contains(body, ">Resume</button>") {
		t.Errorf("overview of a paused go-live lacks paused and Resume")
	}
	if r := b.post("/go-live/promote", url.Values{"confirm": {"yes"}}); r.status != 303 {
		t.Fatalf("promote = %d", r.status)
	}
	body = html.UnescapeString(b.get("/?done=promote").body)
	if !strings.Contains(body, "Promoted: production runs v2 on green.") || strings.Contains(body, "Going live step by step") {
		t.Errorf("overview after promote: want v2 live and no progressive go-live")
	}
	if s.live() != "green" {
		t.Errorf("live = %s, want green", s.live())
	}
	if r := b.post("/go-live/resume", url.Values{"confirm": {"yes"}}); r.status != 409 {
		t.Errorf("resume with nothing in progress = %d, want 409", r.status)
	}
}
