package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/config"
)

// TestMetricsNeedAViewer: /metrics names flags and deployment outcomes, so
// it answers only a token or session with at least the viewer role, and
// refuses like the API otherwise.
func TestMetricsNeedAViewer(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	viewer := s.token(t, "viewer")
	r := s.call(t, "GET", "/metrics", "", "")
	if r.status != http.StatusUnauthorized || r.errorCode() != "unauthenticated" || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("GET /metrics without a token = %d %q, want 401 unauthenticated with WWW-Authenticate", r.status, r.errorCode())
	}
	if r := s.call(t, "GET", "/metrics", "bsc_not-a-token", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET /metrics with a made-up token = %d, want 401", r.status)
	}
	if r := s.call(t, "GET", "/metrics", viewer, ""); r.status != http.StatusOK || !strings.Contains(string(r.body), "bascule_requests_total") {
		t.Errorf("GET /metrics as a viewer = %d, want 200 with the series", r.status)
	}
	if r := s.call(t, "GET", "/metrics", s.token(t, "evaluator"), ""); r.status != http.StatusForbidden || r.errorCode() != "forbidden" {
		t.Errorf("GET /metrics with an evaluator key = %d %q, want 403 forbidden: it may evaluate flags, not read metrics", r.status, r.errorCode())
	}

	tok, expiring, err := s.admin.CreateToken(ctx, "short-lived", "viewer", "1ms")
	if err != nil || tok.ExpiresAt == nil {
		t.Fatalf("CreateToken(1ms) = %+v, %v", tok, err)
	}
	time.Sleep(time.Until(*tok.ExpiresAt)) // the clock, not another goroutine, is what we wait for
	if r := s.call(t, "GET", "/metrics", expiring, ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET /metrics with an expired token = %d, want 401", r.status)
	}

	tok, revoked, err := s.admin.CreateToken(ctx, "revoked", "viewer", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.admin.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if r := s.call(t, "GET", "/metrics", revoked, ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET /metrics with a revoked token = %d, want 401", r.status)
	}

	if _, _, err := s.admin.CreateUser(ctx, "vera", "viewer", "vera's long password"); err != nil {
		t.Fatal(err)
	}
	b := s.browser(t)
	b.login(t, "vera", "vera's long password")
	if r := b.do(t, "GET", "/metrics", nil); r.status != http.StatusOK {
		t.Errorf("GET /metrics in a viewer's browser session = %d, want 200", r.status)
	}
}

func TestMetricsPublic(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.Metrics.Public = true })
	if r := s.call(t, "GET", "/metrics", "", ""); r.status != http.StatusOK || !strings.Contains(string(r.body), "bascule_requests_total") {
		t.Errorf("GET /metrics without a token, metrics.public = %d, want 200 with the series", r.status)
	}
}

// TestCrossOriginChangesRefused: a browser's change sent by a page of
// another site is refused with 403 even with a valid session and CSRF
// token, in the API's JSON shape or as a UI page, and audited; the same
// change from bascule's own page passes, and so does the CLI's.
func TestCrossOriginChangesRefused(t *testing.T) {
	s := startServer(t)
	b := s.browser(t)
	b.login(t, "admin", "correct horse battery staple")
	csrf := b.csrf(t)
	createToken := func(name string, header ...string) reply {
		t.Helper()
		h := append([]string{"X-CSRF-Token", csrf, "Content-Type", "application/json"}, header...)
		return b.do(t, "POST", "/api/v1/tokens", strings.NewReader(`{"name":"`+name+`","role":"viewer"}`), h...)
	}

	r := createToken("forged", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.status != http.StatusForbidden || r.errorCode() != "cross_origin" {
		t.Errorf("cross-site POST with session and CSRF token = %d %s, want 403 cross_origin", r.status, r.body)
	}
	if r := createToken("sibling", "Sec-Fetch-Site", "same-site", "Origin", "https://other.example"); r.status != http.StatusForbidden {
		t.Errorf("same-site (sibling subdomain) POST = %d, want 403", r.status)
	}
	if r := createToken("old-browser", "Origin", "https://evil.example"); r.status != http.StatusForbidden {
		t.Errorf("POST with only a foreign Origin (a browser without Sec-Fetch-Site) = %d, want 403", r.status)
	}
	if r := createToken("own-page", "Sec-Fetch-Site", "same-origin", "Origin", s.base); r.status != http.StatusCreated {
		t.Errorf("same-origin POST = %d %s, want 201", r.status, r.body)
	}
	if r := s.call(t, "POST", "/api/v1/tokens", adminToken, `{"name":"cli","role":"viewer"}`); r.status != http.StatusCreated {
		t.Errorf("CLI-style POST (bearer token, no Origin, no Sec-Fetch-Site) = %d %s, want 201", r.status, r.body)
	}
	if r := s.call(t, "POST", "/api/v1/tokens", adminToken, `{"name":"js","role":"viewer"}`, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Errorf("cross-site POST from a browser with a bearer token = %d, want 403", r.status)
	}
	list, err := s.admin.Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tok := range list {
		names = append(names, tok.Name)
	}
	if got := strings.Join(names, " "); strings.Contains(got, "forged") || strings.Contains(got, "sibling") ||
		strings.Contains(got, "old-browser") || strings.Contains(got, "js") || !strings.Contains(got, "own-page") {
		t.Errorf("tokens after the requests = %s, want own-page and cli only", got)
	}

	page := b.do(t, "POST", "/tokens", strings.NewReader(url.Values{"csrf_token": {csrf}, "name": {"ui-forged"},
		"role": {"viewer"}, "expires": {"30d"}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
	if page.status != http.StatusForbidden || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page.body), "another site") {
		t.Errorf("cross-site form to the UI = %d %s, want 403 with a page saying why", page.status, page.header.Get("Content-Type"))
	}

	audit := s.call(t, "GET", "/api/v1/audit?outcome=cross_origin", adminToken, "")
	var entries struct {
		Audit []struct{ Actor, Action, Target, Detail string }
	}
	if err := json.Unmarshal(audit.body, &entries); err != nil || len(entries.Audit) != 5 {
		t.Fatalf("audit of cross-origin refusals = %s (%v), want 5 entries", audit.body, err)
	}
	first := entries.Audit[len(entries.Audit)-1] // the list is newest first
	if first.Actor != "admin" || first.Action != "denied" || first.Target != "POST /api/v1/tokens" ||
		first.Detail != "sent from another site: Sec-Fetch-Site cross-site, Origin https://evil.example" {
		t.Errorf("first refusal in the audit = %+v, want admin denied POST /api/v1/tokens, naming the site", first)
	}
}

// TestCrossOriginTrustedAndOFREP: control_trusted_origins lets a named site
// send changes, and OFREP, cross-origin by design and keyed by header, is
// not checked.
func TestCrossOriginTrustedAndOFREP(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.ControlTrustedOrigins = []string{"https://deploy.example"} })
	r := s.call(t, "POST", "/api/v1/tokens", adminToken, `{"name":"from-portal","role":"viewer"}`,
		"Sec-Fetch-Site", "cross-site", "Origin", "https://deploy.example")
	if r.status != http.StatusCreated {
		t.Errorf("POST from a trusted origin = %d %s, want 201", r.status, r.body)
	}
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	r = s.call(t, "POST", "/ofrep/v1/evaluate/flags/banner", key, `{"context":{"targetingKey":"u1"}}`,
		"Sec-Fetch-Site", "cross-site", "Origin", "https://shop.example")
	if r.status != http.StatusOK {
		t.Errorf("cross-site OFREP evaluation with a key = %d %s, want 200", r.status, r.body)
	}
}

// browser is an HTTP client with cookies, as a person's browser.
type browser struct {
	s *testServer
	c *http.Client
}

func (s *testServer) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{s: s, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// do sends one request; header holds name, value pairs.
func (b *browser) do(t *testing.T, method, path string, body io.Reader, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, b.s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, b.c, req, header...)
}

// login posts the login form as the page would and fails the test unless
// it lands on the overview.
func (b *browser) login(t *testing.T, name, password string) {
	t.Helper()
	r := b.do(t, "POST", "/login", strings.NewReader(url.Values{"name": {name}, "password": {password}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusOK {
		t.Fatalf("log in as %s = %d %s", name, r.status, r.body)
	}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf returns the session's CSRF token, read from a page as a form holds it.
func (b *browser) csrf(t *testing.T) string {
	t.Helper()
	r := b.do(t, "GET", "/", nil)
	m := csrfField.FindSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("GET / = %d with no CSRF token in it", r.status)
	}
	return string(m[1])
}
