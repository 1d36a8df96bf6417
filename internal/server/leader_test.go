package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
	"github.com/bascule/bascule/internal/store"
)

// leaderOf asks s who leads, as an operator would.
func leaderOf(t *testing.T, s *testServer) server.LeaderStatus {
	t.Helper()
	r := s.call(t, "GET", "/api/v1/leader", adminToken, "")
	var st server.LeaderStatus
	if r.status != http.StatusOK || json.Unmarshal(r.body, &st) != nil {
		t.Fatalf("GET /api/v1/leader = %d %s", r.status, r.body)
	}
	return st
}

// files lists the regular files under dir, which may not exist.
func files(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// TestFollowerForwardsChangesToTheLeader: two instances on one PostgreSQL
// store; the second follows. Changes sent to it, by the API and by the web
// UI, are carried out by the leader; reads are answered by the follower
// itself, even while no instance leads; and when the leader stops, the
// follower takes over and serves changes itself.
func TestFollowerForwardsChangesToTheLeader(t *testing.T) {
	dbURL := pg.NewDatabase(t)
	usePG := func(c *config.Config) {
		c.Store = config.Store{Driver: config.DriverPostgres, URL: dbURL}
		c.ControlLeaseTTL = 2 * time.Second
	}
	a := startServerWith(t, usePG)
	b := startServerWith(t, usePG)
	ctx := context.Background()

	la, lb := leaderOf(t, a), leaderOf(t, b)
	if !la.Leading || !la.Shared || lb.Leading || lb.Leader == nil || lb.Leader.Holder != la.Instance || lb.Leader.URL != a.base {
		t.Fatalf("a says %+v, b says %+v; want a leading, and b naming a at %s", la, lb, a.base)
	}

	// The CLI's calls through the follower: the release lands on the
	// leader, which runs the deployment; the follower streams it from the
	// store.
	if _, _, err := b.admin.AddRelease(ctx, "v1", "app", "", strings.NewReader("binary v1")); err != nil {
		t.Fatalf("AddRelease through the follower = %v", err)
	}
	if len(files(filepath.Join(a.dir, "releases"))) == 0 || len(files(filepath.Join(b.dir, "releases"))) != 0 {
		t.Fatalf("release files: leader %v, follower %v; want them on the leader only",
			files(filepath.Join(a.dir, "releases")), files(filepath.Join(b.dir, "releases")))
	}
	d, err := b.admin.Deploy(ctx, "v1", "through the follower")
	if err != nil {
		t.Fatalf("Deploy through the follower = %v", err)
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.admin.Follow(fctx, d.ID, func(u store.Deployment) { d = u }); err != nil || d.State != store.StateReady {
		t.Fatalf("deployment followed through the follower = %s %q, %v; want ready", d.State, d.Error, err)
	}

	// The leader's own refusals come back as they are.
	viewer := a.token(t, store.RoleViewer)
	if r := b.call(t, "POST", "/api/v1/go-live", viewer, `{}`); r.status != http.StatusForbidden || r.errorCode() != "forbidden" {
		t.Errorf("go-live as a viewer through the follower = %d %s, want the leader's 403", r.status, r.body)
	}
	// A request another instance forwarded is not forwarded again.
	if r := b.call(t, "POST", "/api/v1/go-live", adminToken, `{}`, "X-Bascule-Forwarded-By", "c"); r.status != http.StatusServiceUnavailable || r.errorCode() != "not_leader" {
		t.Errorf("a forwarded request reaching a follower = %d %s, want 503 not_leader", r.status, r.body)
	}

	// The web UI through the follower: the login form is the leader's to
	// serve, the session cookie is the follower's host's, and a form
	// posted with it deploys on the leader.
	br := b.browser(t)
	br.login(t, "admin", "correct horse battery staple")
	form := url.Values{"version": {"v1"}, "reason": {"web, through the follower"}, "confirm": {"yes"}, "csrf_token": {br.csrf(t)}}
	r := br.do(t, "POST", "/deploy", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusOK {
		t.Fatalf("deploy form through the follower = %d %s", r.status, r.body)
	}
	list, err := b.admin.Deployments(ctx, 10)
	if err != nil || len(list) != 2 || list[0].Reason != "web, through the follower" {
		t.Fatalf("deployments after the form = %+v, %v; want the form's on top", list, err)
	}
	waitState(t, b, list[0].ID, store.StateReady)

	// A progressive go-live through the follower: the follower reports it
	// as the leader runs it, in its status (from the store) and in the
	// go-live state that bascule go-live --watch polls (the leader's).
	if _, err := b.admin.GoLive(ctx, "v1 first"); err != nil {
		t.Fatalf("GoLive through the follower = %v", err)
	}
	if _, _, err := b.admin.AddRelease(ctx, "v2", "app", "", strings.NewReader("binary v2")); err != nil {
		t.Fatalf("AddRelease(v2) through the follower = %v", err)
	}
	d2, err := b.admin.Deploy(ctx, "v2", "")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, b, d2.ID, store.StateReady)
	if _, err := b.admin.GoLiveProgressive(ctx, "canary", []int{10, 100}, "1h"); err != nil {
		t.Fatalf("progressive GoLive through the follower = %v", err)
	}
	if st, err := b.admin.Status(ctx); err != nil || st.Progressive == nil || st.Progressive.Percent != 10 || st.Progressive.Version != "v2" {
		t.Errorf("the follower's status = %+v, %v; want the leader's go-live of v2 at 10%%", st.Progressive, err)
	}
	if gl, err := b.admin.GoLiveState(ctx); err != nil || gl.Progressive == nil || gl.Progressive.Percent != 10 {
		t.Errorf("the follower's go-live state = %+v, %v; want the leader's go-live at 10%%", gl.Progressive, err)
	}
	// A read another instance forwarded is answered from the store, not
	// forwarded again nor refused: --watch keeps watching through a
	// takeover.
	if r := b.call(t, "GET", "/api/v1/go-live", adminToken, "", "X-Bascule-Forwarded-By", "c"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"percent": 10`) {
		t.Errorf("a forwarded go-live read reaching a follower = %d %s, want 200 with the stored go-live at 10%%", r.status, r.body)
	}

	// The leader stops: it releases the lease, the follower takes over
	// and serves changes itself.
	a.stop(t)
	stopped := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for !leaderOf(t, b).Leading {
		if time.Now().After(deadline) {
			t.Fatal("b did not take over within 10s of a's clean stop")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("b leads %s after a's clean stop", time.Since(stopped).Round(time.Millisecond))
	// The go-live a ran is b's now, at the step a left it. (b's elector
	// may say it leads a moment before its deploy service takes over.)
	for {
		gl, err := b.admin.GoLiveState(ctx)
		if err != nil || gl.Progressive == nil || gl.Progressive.Percent != 10 {
			t.Fatalf("the new leader's go-live state = %+v, %v; want a's go-live at 10%%", gl.Progressive, err)
		}
		if gl.Progressive.Resumed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new leader did not carry a's go-live on within 10s: %+v", gl.Progressive)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// a is gone: a change succeeds only if b serves it itself.
	b.apply(t, "flags:\n  - key: after-takeover\n    enabled: true\n    default_variant: \"on\"\n")
}

func waitState(t *testing.T, s *testServer, id int64, state store.State) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := s.admin.Deployment(context.Background(), id)
		if err == nil && d.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %d is %s (%v), want %s", id, d.State, err, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSQLiteInstanceAlwaysLeads: alone on its SQLite store an instance
// leads, and says so.
func TestSQLiteInstanceAlwaysLeads(t *testing.T) {
	s := startServer(t)
	if st := leaderOf(t, s); !st.Leading || st.Shared || st.Leader != nil {
		t.Errorf("GET /api/v1/leader on SQLite = %+v; want leading, not shared", st)
	}
}

// TestWebhookWorkerRunsOnTheLeaderOnly: the follower is configured with a
// webhook and the leader with none. While the follower follows, nothing is
// sent to its webhook, whatever happens: its worker does not run. Once it
// leads, its worker dispatches and delivers the pending event.
func TestWebhookWorkerRunsOnTheLeaderOnly(t *testing.T) {
	dbURL := pg.NewDatabase(t)
	got := make(chan string, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Type string }
		json.NewDecoder(r.Body).Decode(&ev)
		got <- ev.Type
	}))
	t.Cleanup(hook.Close)
	usePG := func(c *config.Config) {
		c.Store = config.Store{Driver: config.DriverPostgres, URL: dbURL}
		c.ControlLeaseTTL = 2 * time.Second
	}
	a := startServerWith(t, usePG)
	b := startServerWith(t, func(c *config.Config) {
		usePG(c)
		c.Notify = []config.Webhook{{URL: hook.URL, Events: config.NotifyKinds, Format: config.FormatJSON}}
	})
	if !leaderOf(t, a).Leading {
		t.Fatal("a does not lead")
	}
	b.apply(t, "flags:\n  - key: first\n    enabled: true\n    default_variant: \"on\"\n")
	// The follower's worker, had it run, would have sent it within its
	// half-second poll.
	select {
	case typ := <-got:
		t.Fatalf("the follower's webhook got %q: its worker runs although it does not lead", typ)
	case <-time.After(2 * time.Second):
	}
	a.stop(t)
	select {
	case typ := <-got:
		if typ != "flag.changed" {
			t.Errorf("first event sent once b leads = %q, want the flag change", typ)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("b's worker sent nothing within 15s of a's stop")
	}
}
