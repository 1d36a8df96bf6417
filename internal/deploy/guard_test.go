package deploy_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/static"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// app is a real HTTP backend for one color whose behaviour a test turns:
// the share of requests it fails, and whether its health check passes.
type app struct {
	srv       *httptest.Server
	failEvery atomic.Int64 // answer 500 to every n-th request; 0: never
	unhealthy atomic.Bool
	n         atomic.Int64
}

func newApp(t *testing.T, color router.Color) *app {
	a := &app{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", string(color))
		if r.URL.Path == "/healthz" {
			if a.unhealthy.Load() {
				http.Error(w, "unhealthy", http.StatusInternalServerError)
				return
			}
			io.WriteString(w, "ok")
			return
		}
		if k := a.failEvery.Load(); k > 0 && a.n.Add(1)%k == 0 {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) addr() string { return strings.TrimPrefix(a.srv.URL, "http://") }

// guardStack is the deploy service over real parts, as bascule serve
// assembles it: a SQLite store, the static driver in front of two real
// backends, the router on its own front, and the guard's meter fed by the
// router's Observe hook.
type guardStack struct {
	t           *testing.T
	svc         *deploy.Service
	db          *sqlite.DB
	arts        *artifact.Store
	router      *router.Router
	front       string
	blue, green *app
	dataDir     string // routing table and progressive go-live state
	cfg         guard.Config
	autoGoLive  bool
	// wrap, if set, wraps the static driver (to add what another driver
	// offers).
	wrap func(*static.Driver) deploy.Driver
	// retention is the garbage collection of artifacts; zero: off.
	retention deploy.Retention
}

var testGuard = guard.Config{Window: 2 * time.Second, MaxErrorRate: 0.02, MinRequests: 20}

func newGuardStack(t *testing.T, cfg guard.Config, autoGoLive bool) *guardStack {
	t.Helper()
	return newGuardStackWrapped(t, cfg, autoGoLive, nil)
}

// newGuardStackWith is newGuardStack (without auto go-live) whose driver
// is wrap of the static one.
func newGuardStackWith(t *testing.T, cfg guard.Config, wrap func(*static.Driver) deploy.Driver) *guardStack {
	t.Helper()
	return newGuardStackWrapped(t, cfg, false, wrap)
}

func newGuardStackWrapped(t *testing.T, cfg guard.Config, autoGoLive bool, wrap func(*static.Driver) deploy.Driver) *guardStack {
	t.Helper()
	return startStack(t, &guardStack{cfg: cfg, autoGoLive: autoGoLive, wrap: wrap})
}

// startStack gives s (its options set) real parts, a SQLite store, two
// backends and directories of its own, and opens it.
func startStack(t *testing.T, s *guardStack) *guardStack {
	t.Helper()
	s.t, s.blue, s.green, s.arts, s.dataDir = t, newApp(t, router.Blue), newApp(t, router.Green), &artifact.Store{Dir: t.TempDir()}, t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
	s.open(t, nil)
	return s
}

// newGuardStackOn is bascule starting again over the store, apps and data
// directory of s, its router serving table (as persisted).
func newGuardStackOn(t *testing.T, s *guardStack, table *router.Table) *guardStack {
	t.Helper()
	s2 := *s
	s2.open(t, table)
	return &s2
}

// open starts the router (serving table, if any) and the deploy service,
// which recovers.
func (s *guardStack) open(t *testing.T, table *router.Table) {
	t.Helper()
	ctx := context.Background()
	meter := guard.NewMeter(deploy.BaselineSpan(s.cfg.Window), 50*time.Millisecond)
	mctx, stop := context.WithCancel(ctx)
	go meter.Run(mctx, 50*time.Millisecond)
	t.Cleanup(stop)
	s.router = router.New(router.Options{Bucket: feature.Bucket, Observe: func(c router.Color, status int, d time.Duration) {
		meter.Observe(string(c), status, d)
	}})
	drv := static.New(map[string]string{"blue": s.blue.addr(), "green": s.green.addr()})
	if table != nil {
		s.router.Install(*table)
		drv.Adopt(ctx) // the apps kept running
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.NewServer("", s.router)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.front = "http://" + ln.Addr().String() + "/"
	var d deploy.Driver = drv
	if s.wrap != nil {
		d = s.wrap(drv)
	}
	s.svc = deploy.New(deploy.Options{App: "shop", Store: s.db, Artifacts: s.arts, Driver: d, Router: s.router,
		Health:     runtime.HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: time.Second},
		AutoGoLive: s.autoGoLive, Guard: s.cfg, Traffic: meter, GuardTick: 20 * time.Millisecond, Retention: s.retention,
		RoutingPath: filepath.Join(s.dataDir, "routing.json"), ProgressPath: filepath.Join(s.dataDir, "golive.json")})
	t.Cleanup(s.svc.Close)
	if err := s.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
}

func (s *guardStack) addRelease(version string) {
	s.t.Helper()
	rel := store.Release{Version: version, CreatedAt: time.Now().UTC()}
	if _, err := registerRelease(s.t, s.db, s.arts, rel, version+"\n"); err != nil && !strings.Contains(err.Error(), "conflict") {
		s.t.Fatal(err)
	}
}

// registerRelease packs a directory holding release.txt (content), puts
// it in arts and registers it in db as rel (its version, creation time and
// image; the artifact's fields are filled in). The registration's error
// is the caller's to judge.
func registerRelease(t testing.TB, db store.Releases, arts *artifact.Store, rel store.Release, content string) (store.Release, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "release.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	blob, err := arts.Put(context.Background(), &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	rel.Digest, rel.Size, rel.Format, rel.Filename, rel.CreatedBy = blob.Digest, blob.Size, "tar.gz", rel.Version+".tar.gz", "ci"
	return rel, db.CreateRelease(context.Background(), rel)
}

func (s *guardStack) deploy(version string) store.Deployment {
	s.t.Helper()
	s.addRelease(version)
	ctx := context.Background()
	d, err := s.svc.Deploy(ctx, version, "test", "alice")
	if err != nil {
		s.t.Fatalf("Deploy(%s) = %v", version, err)
	}
	d, err = s.svc.Wait(ctx, d.ID)
	if err != nil {
		s.t.Fatalf("Wait(%s) = %v", version, err)
	}
	return d
}

// v1Live deploys v1 to blue and makes it live, then v2 to green, ready.
func (s *guardStack) v1LiveV2Ready() {
	s.t.Helper()
	s.deploy("v1")
	if _, err := s.svc.GoLive(context.Background(), "alice", "first"); err != nil {
		s.t.Fatal(err)
	}
	if d := s.deploy("v2"); d.State != store.StateReady {
		s.t.Fatalf("deploy v2 = %s (%s), want ready", d.State, d.Error)
	}
}

// load sends requests through the router from 4 clients, each pausing
// 5ms between requests, until stopped, and counts the answers.
type load struct {
	stop           chan struct{}
	wg             sync.WaitGroup
	total, failed  atomic.Int64
	transportError atomic.Int64
}

func (s *guardStack) startLoad() *load {
	l := &load{stop: make(chan struct{})}
	c := &http.Client{Timeout: 5 * time.Second}
	for range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				time.Sleep(5 * time.Millisecond) // steady load: at most 800 requests a second
				resp, err := c.Get(s.front)
				if err != nil {
					l.transportError.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				l.total.Add(1)
				if resp.StatusCode >= 500 {
					l.failed.Add(1)
				}
			}
		}()
	}
	s.t.Cleanup(l.end)
	return l
}

func (l *load) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// waitGuard waits until the guard's watch has ended and returns how.
func (s *guardStack) waitGuard(timeout time.Duration) deploy.GuardStatus {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		g, ok := s.svc.GuardStatus()
		if ok && g.Final() {
			return g
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("guard not done after %s: %+v", timeout, g)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitRequests waits until the load has sent n more requests.
func (l *load) waitRequests(t *testing.T, n int64) {
	t.Helper()
	want := l.total.Load() + n
	deadline := time.Now().Add(10 * time.Second)
	for l.total.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the load sent %d requests in 10s, want %d", l.total.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *guardStack) deployment(version string) store.Deployment {
	s.t.Helper()
	list, err := s.db.ListDeployments(context.Background(), "shop", 10)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, d := range list {
		if d.Version == version {
			return d
		}
	}
	s.t.Fatalf("no deployment of %s", version)
	return store.Deployment{}
}

func (s *guardStack) audit(actor string) []store.AuditEntry {
	s.t.Helper()
	list, err := s.db.ListAudit(context.Background(), 100)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range list {
		if e.Actor == actor {
			out = append(out, e)
		}
	}
	return out
}

// stepNamed returns d's last step called name, or a zero step.
func stepNamed(d store.Deployment, name string) store.Step {
	for i := len(d.Steps) - 1; i >= 0; i-- {
		if d.Steps[i].Name == name {
			return d.Steps[i]
		}
	}
	return store.Step{}
}

func lastStep(d store.Deployment) store.Step {
	if len(d.Steps) == 0 {
		return store.Step{}
	}
	return d.Steps[len(d.Steps)-1]
}

// TestGuardRollsBackAFailingRelease: v2 passes its health check but fails
// a third of its requests; within moments of go-live the guard switches
// back to v1 through the rollback path, and the record says why.
func TestGuardRollsBackAFailingRelease(t *testing.T) {
	s := newGuardStack(t, testGuard, false)
	s.v1LiveV2Ready()
	l := s.startLoad()
	l.waitRequests(t, 300) // the baseline: v1, healthy
	s.green.failEvery.Store(3)
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	g := s.waitGuard(5 * time.Second)
	l.waitRequests(t, 100)
	l.end()
	if g.State != deploy.GuardRolledBack {
		t.Fatalf("guard = %s (%s), want rolled_back", g.State, g.Reason)
	}
	if live := s.router.Table().Live; live != router.Blue {
		t.Errorf("live after the guard's rollback = %s, want blue (v1)", live)
	}
	if g.Requests > 100 {
		t.Errorf("the guard rolled back after %d requests to v2, want within a few dozen", g.Requests)
	}
	d := s.deployment("v2")
	if d.State != store.StateRolledBack || !strings.HasPrefix(d.Error, "guard: ") ||
		!strings.Contains(d.Error, "requests failed (5xx), limit 2%, baseline 0%") {
		t.Errorf("v2's deployment = %s %q, want rolled_back with the guard's reason", d.State, d.Error)
	}
	if st := lastStep(d); st.Name != deploy.StepGuard || st.State != store.StepFailed || st.Message != d.Error {
		t.Errorf("v2's last step = %+v, want the guard step failed with the reason", st)
	}
	entries := s.audit("guard")
	if len(entries) != 1 || entries[0].Action != "rollback" || entries[0].Outcome != "ok" || !strings.Contains(entries[0].Detail, d.Error) {
		t.Errorf("audit entries by guard = %+v, want one rollback, ok, with the reason", entries)
	}
	rel, err := s.db.Release(context.Background(), "v2")
	if err != nil || rel.Hold != d.Error {
		t.Errorf("v2's hold = %q, %v; want the guard's reason", rel.Hold, err)
	}
	// Failures users saw: those v2 served before the rollback, a few
	// dozen.
	if f := l.failed.Load(); f > 60 || l.transportError.Load() > 0 {
		t.Errorf("users saw %d failed requests and %d broken connections of %d, want at most the few v2 failed before the rollback",
			f, l.transportError.Load(), l.total.Load())
	}
}

// TestGuardPassesAHealthyRelease: a release as good as the one before is
// watched for the whole window, then the guard stands down.
func TestGuardPassesAHealthyRelease(t *testing.T) {
	s := newGuardStack(t, testGuard, false)
	s.v1LiveV2Ready()
	l := s.startLoad()
	l.waitRequests(t, 200)
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	st, err := s.svc.Status(context.Background())
	if err != nil || st.Guard == nil || st.Guard.State != deploy.GuardWatching || st.Guard.LeftSeconds <= 0 || st.Guard.Version != "v2" {
		t.Fatalf("status right after go-live: guard = %+v, %v; want watching v2 with time left", st.Guard, err)
	}
	g := s.waitGuard(6 * time.Second)
	l.end()
	if g.State != deploy.GuardPassed || g.Requests < 20 || g.BaselineRequests < 100 {
		t.Fatalf("guard = %+v, want passed with requests on both colors", g)
	}
	if live := s.router.Table().Live; live != router.Green {
		t.Errorf("live = %s, want green", live)
	}
	d := s.deployment("v2")
	if st := lastStep(d); d.State != store.StateLive || st.Name != deploy.StepGuard || st.State != store.StepDone || !strings.HasPrefix(st.Message, "passed: 0% of") {
		t.Errorf("v2's deployment = %s, last step %+v; want live, the guard step passed", d.State, st)
	}
	if n := len(s.audit("guard")); n != 0 {
		t.Errorf("%d audit entries by guard, want none", n)
	}
}

// TestGuardRollsBackWhenHealthFails: the live release starts failing its
// health check during the window: rolled back at once, whatever the
// traffic says.
func TestGuardRollsBackWhenHealthFails(t *testing.T) {
	s := newGuardStack(t, guard.Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 20}, false)
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	s.green.unhealthy.Store(true)
	g := s.waitGuard(5 * time.Second)
	if g.State != deploy.GuardRolledBack || !strings.Contains(g.Reason, "failed its health check 3 times in a row") {
		t.Fatalf("guard = %s %q, want rolled back for failing health checks", g.State, g.Reason)
	}
	if live := s.router.Table().Live; live != router.Blue {
		t.Errorf("live = %s, want blue", live)
	}
}

// TestGuardRollbackUnsafe: when the previous color no longer serves, the
// guard does not switch to it: the deployment says why, production stays.
func TestGuardRollbackUnsafe(t *testing.T) {
	s := newGuardStack(t, testGuard, false)
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	s.blue.srv.Close() // the previous release is gone
	s.green.failEvery.Store(2)
	l := s.startLoad()
	g := s.waitGuard(5 * time.Second)
	l.end()
	if g.State != deploy.GuardUnsafe || !strings.HasPrefix(g.Reason, "guard: breach, rollback unsafe: the previous release v1 on blue fails its health check") {
		t.Fatalf("guard = %s %q, want breach_unsafe naming v1 on blue", g.State, g.Reason)
	}
	if live := s.router.Table().Live; live != router.Green {
		t.Errorf("live = %s, want green: an unsafe rollback is not attempted", live)
	}
	d := s.deployment("v2")
	if d.State != store.StateLive || d.Error != g.Reason {
		t.Errorf("v2's deployment = %s %q, want live with %q", d.State, d.Error, g.Reason)
	}
	if e := s.audit("guard"); len(e) != 1 || e[0].Outcome != "refused" {
		t.Errorf("audit by guard = %+v, want one refused rollback", e)
	}
}

// TestGuardStandsDownOnFinalize: once the release is finalized the guard
// stops watching; a later regression is for people to handle.
func TestGuardStandsDownOnFinalize(t *testing.T) {
	s := newGuardStack(t, guard.Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 20}, false)
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Finalize(context.Background(), "bob", "looks good"); err != nil {
		t.Fatal(err)
	}
	g := s.waitGuard(time.Second)
	if g.State != deploy.GuardStoodDown || g.Reason != "finalized by bob" {
		t.Fatalf("guard after finalize = %s %q, want stood_down, finalized by bob", g.State, g.Reason)
	}
	s.green.failEvery.Store(2)
	l := s.startLoad()
	l.waitRequests(t, 200)
	l.end()
	if live := s.router.Table().Live; live != router.Green {
		t.Errorf("live = %s, want green: the guard stood down", live)
	}
	// Finalizing records its own step after the guard's.
	if st := stepNamed(s.deployment("v2"), deploy.StepGuard); st.State != store.StepDone || st.Message != "stood down: finalized by bob" {
		t.Errorf("v2's guard step = %+v", st)
	}
}

// TestGuardHoldsTheReleaseFromAutoGoLive: with auto_go_live, a release the
// guard rolled back stops at ready when deployed again: a person decides.
func TestGuardHoldsTheReleaseFromAutoGoLive(t *testing.T) {
	s := newGuardStack(t, testGuard, true)
	if d := s.deploy("v1"); d.State != store.StateLive {
		t.Fatalf("v1 = %s, want live", d.State)
	}
	l := s.startLoad()
	l.waitRequests(t, 100)
	s.green.failEvery.Store(2)
	if d := s.deploy("v2"); d.State != store.StateLive {
		t.Fatalf("v2 = %s (%s), want live (automatic)", d.State, d.Error)
	}
	if g := s.waitGuard(5 * time.Second); g.State != deploy.GuardRolledBack {
		t.Fatalf("guard = %s %q, want rolled_back", g.State, g.Reason)
	}
	l.end()
	d := s.deploy("v2")
	st := lastStep(d)
	if d.State != store.StateReady || st.Name != deploy.StepGoLive || st.State != store.StepSkipped ||
		!strings.HasPrefix(st.Message, "not automatic: the guard rolled v2 back before (") {
		t.Errorf("v2 deployed again = %s, last step %+v; want ready, go-live skipped because of the hold", d.State, st)
	}
	if live := s.router.Table().Live; live != router.Blue {
		t.Errorf("live = %s, want blue", live)
	}
	// A person may still go live with it.
	if _, err := s.svc.GoLive(context.Background(), "alice", "fixed config, I checked"); err != nil {
		t.Errorf("a person's go-live of a held release = %v", err)
	}
}

// TestGuardStandsDownWhenAPersonSwitches: a person's rollback during the
// window ends the watch; the guard never switches behind them.
func TestGuardStandsDownWhenAPersonSwitches(t *testing.T) {
	s := newGuardStack(t, guard.Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 20}, false)
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Rollback(context.Background(), "bob", "not today", false); err != nil {
		t.Fatal(err)
	}
	g := s.waitGuard(time.Second)
	if g.State != deploy.GuardStoodDown || g.Reason != "rollback by bob" {
		t.Errorf("guard = %s %q, want stood_down, rollback by bob", g.State, g.Reason)
	}
	if d := s.deployment("v2"); d.State != store.StateRolledBack || d.Error != "" {
		t.Errorf("v2 = %s %q, want rolled_back by a person, no guard error", d.State, d.Error)
	}
}

// TestGuardResumesAfterRestart: bascule stops during the window; the next
// start carries on watching for the rest of it, and still rolls back.
func TestGuardResumesAfterRestart(t *testing.T) {
	cfg := guard.Config{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 20}
	s := newGuardStack(t, cfg, false)
	s.v1LiveV2Ready()
	if _, err := s.svc.GoLive(context.Background(), "alice", "ship"); err != nil {
		t.Fatal(err)
	}
	s.svc.Close() // bascule stops; the apps and the router table stay
	if st := lastStep(s.deployment("v2")); st.Name != deploy.StepGuard || st.EndedAt != nil {
		t.Fatalf("guard step after a stop = %+v, want still running", st)
	}
	table := s.router.Table()
	s = newGuardStackOn(t, s, &table)
	if g, ok := s.svc.GuardStatus(); !ok || g.State != deploy.GuardWatching || g.Version != "v2" || g.LeftSeconds < 50 {
		t.Fatalf("guard after the restart = %+v, want watching v2 for the rest of the minute", g)
	}
	s.green.failEvery.Store(2)
	l := s.startLoad()
	g := s.waitGuard(5 * time.Second)
	l.end()
	if g.State != deploy.GuardRolledBack || !strings.Contains(g.Reason, "no baseline") {
		t.Errorf("guard = %s %q, want rolled back on the limit alone", g.State, g.Reason)
	}
}
