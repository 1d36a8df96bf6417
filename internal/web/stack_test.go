package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/static"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
	"github.com/bascule/bascule/internal/web"
)

// password is every test user's password.
const password = "correct horse battery staple"

// clock is the authenticator's time, so a test can make a session expire.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// stack is the web UI over real parts: a SQLite store in a temp dir, the
// authenticator, the flag service and the deploy service with the static
// driver in front of a real backend, and a real router. The backend's
// health check waits while gate is closed, to hold a deployment mid-way.
type stack struct {
	t      testing.TB
	srv    *httptest.Server
	h      *web.Handler
	store  *sqlite.DB
	auth   *auth.Authenticator
	deploy *deploy.Service
	flags  *flag.Service
	router *router.Router
	arts   *artifact.Store
	clock  *clock
	gate   *gate
}

// gate holds the backend's health check while closed.
type gate struct {
	mu   sync.Mutex
	open chan struct{}
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

// hold makes health checks wait until the returned func is called.
func (g *gate) hold() (release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch := make(chan struct{})
	g.open = ch
	return sync.OnceFunc(func() { close(ch) })
}

func (g *gate) wait(ctx context.Context) {
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// newStack builds the stack; edits change the deploy service's options
// (to turn the guard on, say).
func newStack(t testing.TB, edits ...func(*deploy.Options)) *stack {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	g := newGate()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			g.wait(r.Context())
		}
		io.WriteString(w, "ok\n")
	}))
	t.Cleanup(backend.Close)
	addr := strings.TrimPrefix(backend.URL, "http://")
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Now()}
	s := &stack{t: t, store: db, clock: clk, gate: g, arts: &artifact.Store{Dir: filepath.Join(dir, "releases")}}
	s.auth = auth.New(auth.Options{Store: db, Now: clk.Now, Password: auth.PasswordParams{Time: 1, MemoryKiB: 64}})
	if s.flags, err = flag.NewService(ctx, flag.ServiceOptions{Store: db}); err != nil {
		t.Fatal(err)
	}
	s.router = router.New(router.Options{Bucket: feature.Bucket})
	opts := deploy.Options{App: "shop", Store: db, Artifacts: s.arts,
		Driver: static.New(map[string]string{"blue": addr, "green": addr}), Router: s.router,
		Health: runtime.HealthCheck{Path: "/healthz", Interval: 10 * time.Millisecond}, StartTimeout: 20 * time.Second,
		DrainTimeout: time.Second}
	for _, edit := range edits {
		edit(&opts)
	}
	s.deploy = deploy.New(opts)
	t.Cleanup(s.deploy.Close)
	s.h = web.New(web.Options{Auth: s.auth, Store: db, Deploy: s.deploy, Flags: s.flags,
		PreviewURL: "http://preview.localhost:1/?bascule_preview=t", Tick: 50 * time.Millisecond,
		Notifications: notify.New(notify.Options{Store: db, App: "shop", Endpoints: []notify.Endpoint{{URL: webhookURL, Format: notify.FormatSlack}}}),
		Stats:         func() map[string]web.ColorStats { return map[string]web.ColorStats{"blue": {Requests: 10}} }})
	s.srv = httptest.NewServer(s.h)
	t.Cleanup(s.srv.Close)
	for _, u := range [][2]string{{"vera", store.RoleViewer}, {"dana", store.RoleDeployer}, {"dave", store.RoleDeployer}, {"ada", store.RoleAdmin}} {
		if _, err := s.auth.Users().Create(ctx, u[0], u[1], password); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// addRelease registers version with a tiny artifact and notes.
func (s *stack) addRelease(version, notes string) {
	s.t.Helper()
	dir := s.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "release.txt"), []byte(version+"\n"), 0o644); err != nil {
		s.t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, dir); err != nil {
		s.t.Fatal(err)
	}
	blob, err := s.arts.Put(context.Background(), &buf, "")
	if err != nil {
		s.t.Fatal(err)
	}
	rel := store.Release{Version: version, Digest: blob.Digest, Size: blob.Size, Format: "tar.gz", Filename: version + ".tar.gz",
		Notes: notes, CreatedBy: "token:ci", CreatedAt: time.Now().UTC()}
	if err := s.store.CreateRelease(context.Background(), rel); err != nil {
		s.t.Fatal(err)
	}
}

// deployAndWait deploys version through the service and waits for it.
func (s *stack) deployAndWait(version string) store.Deployment {
	s.t.Helper()
	ctx := context.Background()
	d, err := s.deploy.Deploy(ctx, version, "setup", "setup")
	if err != nil {
		s.t.Fatalf("Deploy(%s) = %v", version, err)
	}
	if d, err = s.deploy.Wait(ctx, d.ID); err != nil || d.State != store.StateReady {
		s.t.Fatalf("deploy %s ended %s (%s), %v; want ready", version, d.State, d.Error, err)
	}
	return d
}

// liveWithNext leaves v1 live on blue and v2 ready on green.
func (s *stack) liveWithNext() {
	s.t.Helper()
	s.addRelease("v1", "")
	s.addRelease("v2", "")
	s.deployAndWait("v1")
	if _, err := s.deploy.GoLive(context.Background(), "setup", ""); err != nil {
		s.t.Fatal(err)
	}
	s.deployAndWait("v2")
}

func (s *stack) live() string { return string(s.router.Table().Live) }

func (s *stack) deployments() []store.Deployment {
	s.t.Helper()
	list, err := s.store.ListDeployments(context.Background(), "shop", 100)
	if err != nil {
		s.t.Fatal(err)
	}
	return list
}

// browser is one person's cookie jar, not following redirects, so tests
// see each answer.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func (s *stack) anonymous() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, base: s.srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// login logs name in through the login form and reads the CSRF token
// from a page, as the browser's forms carry it.
func (s *stack) login(name string) *browser {
	s.t.Helper()
	b := s.anonymous()
	r := b.postRaw("/login", url.Values{"name": {name}, "password": {password}, "next": {"/"}}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		s.t.Fatalf("login %s = %d (Location %q), want 303 to /", name, r.status, r.header.Get("Location"))
	}
	m := csrfMeta.FindStringSubmatch(b.get("/").body)
	if m == nil || m[1] == "" {
		s.t.Fatalf("no CSRF token in the overview of %s", name)
	}
	b.csrf = m[1]
	return b
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) reply {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) reply {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post sends a form with the session's CSRF token, as the pages do.
func (b *browser) post(path string, form url.Values) reply {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", b.csrf)
	return b.postRaw(path, form, nil)
}

// postRaw sends a form as it is, with extra headers (name, value pairs).
func (b *browser) postRaw(path string, form url.Values, header []string) reply {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", b.base+"/")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (s *stack) audit(action string) []store.AuditEntry {
	s.t.Helper()
	list, err := s.store.ListAudit(context.Background(), 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range list {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}
