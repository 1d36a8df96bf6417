package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// TestDeployAsksThenDeploys: without the confirmation a deploy only asks;
// confirmed, it starts one deployment with the reason and shows it.
func TestDeployAsksThenDeploys(t *testing.T) {
	s := newStack(t)
	s.addRelease("v1", "")
	dana := s.login("dana")
	r := dana.post("/deploy", url.Values{"version": {"v1"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Deploy v1?") || len(s.deployments()) != 0 {
		t.Fatalf("unconfirmed deploy = %d with %d deployments, want the question and none", r.status, len(s.deployments()))
	}
	r = dana.post("/deploy", url.Values{"version": {"v1"}, "confirm": {"yes"}, "reason": {"  first\nrelease  "}})
	list := s.deployments()
	if r.status != http.StatusSeeOther || len(list) != 1 || r.header.Get("Location") != "/deployments/1" {
		t.Fatalf("confirmed deploy = %d to %q with %d deployments, want 303 to /deployments/1", r.status, r.header.Get("Location"), len(list))
	}
	if d := list[0]; d.Reason != "first release" || d.RequestedBy != "dana" {
		t.Errorf("deployment reason %q by %q, want %q by dana", d.Reason, d.RequestedBy, "first release")
	}
	if r := dana.post("/deploy", url.Values{"version": {"v9"}, "confirm": {"yes"}}); r.status != http.StatusNotFound || !strings.Contains(r.body, "unknown release") {
		t.Errorf("deploy of an unknown release = %d, want 404 saying so", r.status)
	}
}

// TestDoubleDeployMakesOne: two confirmed deploys at once (a double click
// that got past the script) make one deployment; the other click is
// answered 409, naming the deployment in the way.
func TestDoubleDeployMakesOne(t *testing.T) {
	s := newStack(t)
	s.addRelease("v1", "")
	release := s.gate.hold() // the first deployment stays in its health check
	defer release()
	dana := s.login("dana")
	replies := make([]reply, 2)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() { replies[i] = dana.post("/deploy", url.Values{"version": {"v1"}, "confirm": {"yes"}}) })
	}
	wg.Wait()
	statuses := []int{replies[0].status, replies[1].status}
	conflict := replies[0]
	if statuses[0] == http.StatusSeeOther {
		conflict = replies[1]
	}
	if !(statuses[0] == 303 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 303) {
		t.Fatalf("two deploys at once = %v, want one 303 and one 409", statuses)
	}
	if !regexp.MustCompile(`deployment #1 of v1, asked by dana, is \w+`).MatchString(conflict.body) {
		t.Errorf("the 409 page does not say which deployment is in the way:\n%s", excerpt(conflict.body, "flash error"))
	}
	if n := len(s.deployments()); n != 1 {
		t.Errorf("%d deployments, want 1", n)
	}
}

// TestSwitchRace: two people press Go live and Rollback at the same
// moment on the same page; one wins and the other is told why. A click
// from a page that shows an older state is refused, not replayed. Both are
// valid moves from where they start: v2 was rolled back, so going live
// with it again and rolling back to it both switch to green.
func TestSwitchRace(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	for _, step := range []func(context.Context, string, string) (deploy.Status, error){
		s.deploy.GoLive,
		func(ctx context.Context, actor, reason string) (deploy.Status, error) {
			return s.deploy.Rollback(ctx, actor, reason, false)
		},
	} {
		if _, err := step(context.Background(), "setup", ""); err != nil {
			t.Fatal(err)
		}
	}
	alice, bob := s.login("dana"), s.login("dave")
	var wg sync.WaitGroup
	replies := make([]reply, 2)
	for i, b := range []*browser{alice, bob} {
		path := map[int]string{0: "/go-live", 1: "/rollback"}[i]
		wg.Go(func() { replies[i] = b.post(path, url.Values{"confirm": {"yes"}, "live": {"blue"}}) })
	}
	wg.Wait()
	won, lost := replies[0], replies[1]
	if won.status != http.StatusSeeOther {
		won, lost = lost, won
	}
	if won.status != http.StatusSeeOther || lost.status != http.StatusConflict {
		t.Fatalf("go-live and rollback at once = %d and %d, want one 303 and one 409:\n%s\n%s", replies[0].status, replies[1].status, excerpt(replies[0].body, "flash error"), excerpt(replies[1].body, "flash error"))
	}
	why := excerpt(lost.body, "flash error")
	if !strings.Contains(why, "in progress") && !strings.Contains(why, "Production moved since you loaded the page") {
		t.Errorf("the loser's page does not say why: %q", why)
	}
	if s.live() != "green" {
		t.Fatalf("after the race production is on %s, want green (both switched away from blue)", s.live())
	}
	// Bob's page still shows blue live: his Rollback now would undo Alice's
	// go-live, so it is refused.
	r := bob.post("/rollback", url.Values{"confirm": {"yes"}, "live": {"blue"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "green is live now, not blue") || s.live() != "green" {
		t.Errorf("a rollback from a stale page = %d (live %s), want 409 and green still live", r.status, s.live())
	}
	if refused := s.audit("rollback"); len(refused) == 0 || refused[0].Outcome != "refused" {
		t.Errorf("the stale rollback is not audited as refused: %+v", refused)
	}
}

// TestGoLiveRollbackFinalize runs the three switches from the UI and
// checks the overview's message after each.
func TestGoLiveRollbackFinalize(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	dana := s.login("dana")
	steps := []struct{ path, live, want, flash string }{
		{"/go-live", "blue", "green", "Gone live: production runs v2 on green."},
		{"/rollback", "green", "blue", "Rolled back: production runs v1 on blue."},
		{"/go-live", "blue", "green", "Gone live: production runs v2 on green."},
		{"/finalize", "", "green", "v2 is finalized."},
	}
	for _, st := range steps {
		r := dana.post(st.path, url.Values{"confirm": {"yes"}, "live": {st.live}, "reason": {"ui test"}})
		if r.status != http.StatusSeeOther || s.live() != st.want {
			t.Fatalf("POST %s = %d, live %s; want 303 and %s", st.path, r.status, s.live(), st.want)
		}
		if page := dana.get(r.header.Get("Location")).body; !strings.Contains(page, st.flash) {
			t.Errorf("after %s the overview does not say %q", st.path, st.flash)
		}
	}
	if e := s.audit("go-live"); len(e) != 3 || e[0].Actor != "dana" || !strings.Contains(e[0].Detail, "ui test") {
		t.Errorf("go-live audit = %+v, want 3 entries by dana with the reason", e)
	}
	page := dana.get("/").body
	if !strings.Contains(page, "Finalize v2") && !strings.Contains(page, "v2 is finalized already.") {
		t.Errorf("the overview after finalize does not say v2 is finalized")
	}
}

// TestExpiredSessionMidAction: the session ends while the page is open;
// the action sends to the login, saying nothing was done, and nothing is.
func TestExpiredSessionMidAction(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	dana := s.login("dana")
	before := len(s.deployments())
	s.clock.Advance(13 * time.Hour) // past the 12-hour idle timeout
	for _, path := range []string{"/deploy", "/go-live"} {
		r := dana.post(path, url.Values{"confirm": {"yes"}, "version": {"v2"}, "live": {"blue"}})
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "expired=1") {
			t.Errorf("POST %s with an expired session = %d to %q, want 303 to /login?…expired=1", path, r.status, loc)
		}
		if page := dana.get(loc).body; !strings.Contains(page, "that action was not performed") {
			t.Errorf("the login page after an expired %s does not say the action was not performed", path)
		}
	}
	if s.live() != "blue" || len(s.deployments()) != before {
		t.Errorf("after actions with an expired session: live %s, %d deployments; want blue and %d", s.live(), len(s.deployments()), before)
	}
}

// excerpt returns the element of body whose class attribute starts with
// class, for failure messages.
func excerpt(body, class string) string {
	i := strings.Index(body, `class="`+class)
	if i < 0 {
		return "(no " + class + ")"
	}
	end := strings.Index(body[i:], "</")
	if end < 0 {
		end = len(body) - i
	}
	return body[i : i+end]
}

var _ = store.StateReady
