package auth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// site is a real HTTP server with the three handlers a web UI builds on
// the Authenticator: a login form, a logout button, and a page.
type site struct {
	t   *testing.T
	a   *auth.Authenticator
	db  *sqlite.DB
	clk *clock
	srv *httptest.Server
}

func newSite(t *testing.T, opts auth.Options, tls bool) *site {
	t.Helper()
	s := &site{t: t, clk: newClock()}
	opts.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	s.a, s.db = newAuth(t, s.clk, opts)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		err := s.a.Login(r.Context(), w, r, r.PostFormValue("user"), r.PostFormValue("password"))
		writeAuthError(w, err)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		writeAuthError(w, s.a.Logout(w, r))
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		p, err := s.a.Authenticate(r)
		if err != nil {
			writeAuthError(w, err)
			return
		}
		io.WriteString(w, p.Name+" "+p.Role+" "+p.Via+" "+p.CSRFToken)
	})
	if tls {
		s.srv = httptest.NewTLSServer(mux)
	} else {
		s.srv = httptest.NewServer(mux)
	}
	t.Cleanup(s.srv.Close)
	return s
}

func writeAuthError(w http.ResponseWriter, err error) {
	var rl *auth.RateLimitError
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())))
		http.Error(w, err.Error(), http.StatusTooManyRequests)
	case errors.Is(err, auth.ErrUnauthenticated):
		http.Error(w, err.Error(), http.StatusUnauthorized)
	case errors.Is(err, auth.ErrCSRF):
		http.Error(w, err.Error(), http.StatusForbidden)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// browser is an HTTP client with a cookie jar.
type browser struct {
	s      *site
	c      *http.Client
	client string // the address the site's ClientIP sees
}

func (s *site) browser(client string) *browser {
	jar, _ := cookiejar.New(nil)
	c := *s.srv.Client() // a copy: each browser has its own cookies
	c.Jar = jar
	return &browser{s: s, c: &c, client: client}
}

func (b *browser) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.s.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Test-Client", b.client)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func (b *browser) login(user, password string, header ...string) *http.Response {
	b.s.t.Helper()
	resp, _ := b.do("POST", "/login", url.Values{"user": {user}, "password": {password}}, header...)
	return resp
}

// csrf returns the CSRF token of the browser's session, as a page shows it.
func (b *browser) csrf() string {
	b.s.t.Helper()
	resp, body := b.do("GET", "/page", nil)
	if resp.StatusCode != 200 {
		b.s.t.Fatalf("GET /page = %d %s, want 200", resp.StatusCode, body)
	}
	f := strings.Fields(body)
	return f[len(f)-1]
}

func (b *browser) cookie() string {
	u, _ := url.Parse(b.s.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == auth.CookieName {
			return c.Value
		}
	}
	return ""
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			return c
		}
	}
	return nil
}

func TestLoginCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		tls, option bool
		wantSecure  bool
	}{
		{"plain HTTP", false, false, false},
		{"TLS", true, false, true},
		{"behind a TLS proxy (option)", false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, auth.Options{SecureCookie: tc.option}, tc.tls)
			resp := s.browser("10.0.0.1").login("alice", "password-alice")
			c := sessionCookie(resp)
			if resp.StatusCode != 204 || c == nil {
				t.Fatalf("login = %d, cookie %v; want 204 and a %s cookie", resp.StatusCode, c, auth.CookieName)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tc.wantSecure || c.MaxAge != 7*24*3600 {
				t.Errorf("cookie = HttpOnly %v, SameSite %v, Path %q, Secure %v, MaxAge %d; want true, Lax, /, %v, 604800",
					c.HttpOnly, c.SameSite, c.Path, c.Secure, c.MaxAge, tc.wantSecure)
			}
		})
	}
}

// TestLoginRotatesSession: each login gets a new ID and ends the session
// the browser came with, so a planted or stolen pre-login ID is worthless.
func TestLoginRotatesSession(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	b := s.browser("10.0.0.1")
	b.login("alice", "password-alice")
	first := b.cookie()
	b.login("alice", "password-alice")
	second := b.cookie()
	if first == "" || second == "" || first == second {
		t.Fatalf("session IDs of two logins = %q, %q; want two different ones", first, second)
	}
	attacker := s.browser("10.0.0.2")
	u, _ := url.Parse(s.srv.URL)
	attacker.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieName, Value: first}})
	if resp, _ := attacker.do("GET", "/page", nil); resp.StatusCode != 401 {
		t.Errorf("GET with the pre-rotation ID = %d, want 401", resp.StatusCode)
	}
	if resp, body := b.do("GET", "/page", nil); resp.StatusCode != 200 || !strings.HasPrefix(body, "alice admin session") {
		t.Errorf("GET with the new ID = %d %q, want 200 as alice via session", resp.StatusCode, body)
	}
}

func TestCSRF(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	b := s.browser("10.0.0.1")
	b.login("dave", "password-dave")
	token := b.csrf()
	_, secret, err := s.a.Tokens().Issue(context.Background(), "ci", "deployer", 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		method string
		form   url.Values
		header []string
		want   int
	}{
		{"GET needs no token", "GET", nil, nil, 200},
		{"HEAD needs no token", "HEAD", nil, nil, 200},
		{"POST without token", "POST", url.Values{"x": {"1"}}, nil, 403},
		{"DELETE without token", "DELETE", nil, nil, 403},
		{"POST with the form field", "POST", url.Values{"csrf_token": {token}}, nil, 200},
		{"PUT with the header", "PUT", nil, []string{"X-CSRF-Token", token}, 200},
		{"POST with a wrong token", "POST", url.Values{"csrf_token": {token[:len(token)-1] + "x"}}, nil, 403},
		{"POST with another session's token", "POST", nil, []string{"X-CSRF-Token", otherToken(t, s)}, 403},
		{"POST with a bearer token needs none", "POST", nil, []string{"Authorization", "Bearer " + secret}, 200},
		{"a bad bearer token does not fall back to the cookie", "GET", nil, []string{"Authorization", "Bearer bsc_nope"}, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if resp, body := b.do(tc.method, "/page", tc.form, tc.header...); resp.StatusCode != tc.want {
				t.Errorf("%s /page = %d %q, want %d", tc.method, resp.StatusCode, body, tc.want)
			}
		})
	}
}

func otherToken(t *testing.T, s *site) string {
	b := s.browser("10.0.0.9")
	b.login("vic", "password-vic")
	return b.csrf()
}

func TestLogout(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	b := s.browser("10.0.0.1")
	b.login("alice", "password-alice")
	id := b.cookie()
	if resp, _ := b.do("POST", "/logout", url.Values{}); resp.StatusCode != 403 {
		t.Errorf("logout without the CSRF token = %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/page", nil); resp.StatusCode != 200 {
		t.Fatalf("after a refused logout: GET = %d, want still logged in", resp.StatusCode)
	}
	resp, _ := b.do("POST", "/logout", url.Values{"csrf_token": {b.csrf()}})
	if c := sessionCookie(resp); resp.StatusCode != 204 || c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout = %d, cookie %v; want 204 and the cookie deleted", resp.StatusCode, c)
	}
	replay := s.browser("10.0.0.2")
	u, _ := url.Parse(s.srv.URL)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieName, Value: id}})
	if resp, _ := replay.do("GET", "/page", nil); resp.StatusCode != 401 {
		t.Errorf("GET with the logged-out ID = %d, want 401", resp.StatusCode)
	}
	if resp, _ := replay.do("POST", "/logout", url.Values{}); resp.StatusCode != 204 {
		t.Errorf("logout of a dead session = %d, want 204", resp.StatusCode)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	b := s.browser("10.0.0.1")
	r1, body1 := b.do("POST", "/login", url.Values{"user": {"alice"}, "password": {"wrong"}})
	r2, body2 := b.do("POST", "/login", url.Values{"user": {"mallory"}, "password": {"wrong"}})
	if r1.StatusCode != 401 || r2.StatusCode != 401 || body1 != body2 {
		t.Errorf("wrong password = %d %q, unknown user = %d %q; want the same 401", r1.StatusCode, body1, r2.StatusCode, body2)
	}
	if resp := b.login("ALICE ", "password-alice"); resp.StatusCode != 204 {
		t.Errorf("login as %q = %d, want names case-insensitive", "ALICE ", resp.StatusCode)
	}
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	s := newSite(t, auth.Options{IPLimit: auth.Limit{Max: 3}}, false)
	b := s.browser("10.0.0.1")
	for _, user := range []string{"u1", "u2", "u3"} {
		b.login(user, "guess")
	}
	if resp := b.login("alice", "password-alice"); resp.StatusCode != 429 {
		t.Errorf("login from an address with 3 failures on other names = %d, want 429", resp.StatusCode)
	}
	if resp := s.browser("10.0.0.2").login("alice", "password-alice"); resp.StatusCode != 204 {
		t.Errorf("alice from another address = %d, want 204", resp.StatusCode)
	}
}

func TestLoginRefusesCrossSite(t *testing.T) {
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin("https://deploy.example"); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, auth.Options{CrossOrigin: cop}, false)
	host := strings.TrimPrefix(s.srv.URL, "http://")
	cases := []struct {
		header []string
		want   int
	}{
		{[]string{"Sec-Fetch-Site", "cross-site"}, 403},
		{[]string{"Sec-Fetch-Site", "same-site", "Origin", "https://other.deploy.example"}, 403}, // a sibling subdomain
		{[]string{"Origin", "https://evil.example"}, 403},
		{[]string{"Origin", "null"}, 403},
		{[]string{"Sec-Fetch-Site", "same-origin", "Origin", "http://" + host}, 204},
		{[]string{"Origin", "http://" + host}, 204},
		{[]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://deploy.example"}, 204}, // trusted
		{nil, 204}, // curl
	}
	for _, tc := range cases {
		if resp := s.browser("10.0.0.1").login("alice", "password-alice", tc.header...); resp.StatusCode != tc.want {
			t.Errorf("login with %q = %d, want %d", tc.header, resp.StatusCode, tc.want)
		}
	}
}

// TestSessionFollowsTheUser: a role change applies at the next request;
// disabling or deleting the user ends their sessions.
func TestSessionFollowsTheUser(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	ctx := context.Background()
	b := s.browser("10.0.0.1")
	b.login("dave", "password-dave")
	if _, err := s.a.Users().Update(ctx, "dave", auth.UserChange{Role: "viewer"}); err != nil {
		t.Fatal(err)
	}
	if _, body := b.do("GET", "/page", nil); !strings.HasPrefix(body, "dave viewer") {
		t.Errorf("after demotion GET /page = %q, want dave as viewer", body)
	}
	off := true
	s.a.Users().Update(ctx, "dave", auth.UserChange{Disabled: &off})
	if resp, _ := b.do("GET", "/page", nil); resp.StatusCode != 401 {
		t.Errorf("after disabling dave GET = %d, want 401", resp.StatusCode)
	}
	b = s.browser("10.0.0.1")
	b.login("vic", "password-vic")
	if err := s.a.Users().Delete(ctx, "vic"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("GET", "/page", nil); resp.StatusCode != 401 {
		t.Errorf("after deleting vic GET = %d, want 401", resp.StatusCode)
	}
}

func TestLoginIsAudited(t *testing.T) {
	s := newSite(t, auth.Options{Backoff: auth.Backoff{Free: 1}}, false)
	b := s.browser("10.0.0.7")
	b.login("alice", "password-alice")
	b.do("POST", "/logout", url.Values{"csrf_token": {b.csrf()}})
	b.login("dave", "hunter2-secret")
	b.login("dave", "hunter2-secret")
	list, err := s.db.ListAudit(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(list) - 1; i >= 0; i-- {
		e := list[i]
		got = append(got, e.Actor+" "+e.Action+" "+e.Outcome+" "+e.Detail)
		if strings.Contains(e.Detail+e.Target, "hunter2") || strings.Contains(e.Detail+e.Target, "password-") {
			t.Errorf("audit entry %+v holds a password", e)
		}
	}
	want := "alice login ok from 10.0.0.7|alice logout ok from 10.0.0.7|dave login failed from 10.0.0.7|" +
		"dave login locked_out 10.0.0.7: 1 failed login in a row for this user from this address; next try in 1s|" +
		"dave login rate_limited from 10.0.0.7: too many failed logins for this user from this address: try again in 1s"
	if strings.Join(got, "|") != want {
		t.Errorf("audit =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
}

// TestIdentifyReadsNoCSRF: Identify names a session's user for the audit
// log of a refused change, without the CSRF token Authenticate demands.
func TestIdentifyReadsNoCSRF(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	b := s.browser("10.0.0.1")
	b.login("dave", "password-dave")
	req := httptest.NewRequest("POST", "/deploy", nil)
	req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: b.cookie()})
	if _, err := s.a.Authenticate(req); !errors.Is(err, auth.ErrCSRF) {
		t.Fatalf("Authenticate(POST without token) = %v, want ErrCSRF", err)
	}
	if p, err := s.a.Identify(req); err != nil || p.Name != "dave" || p.Via != auth.ViaSession {
		t.Errorf("Identify(POST without token) = %+v, %v; want dave via session", p, err)
	}
	if _, err := s.a.Identify(httptest.NewRequest("POST", "/deploy", nil)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Identify(no credentials) = %v, want ErrUnauthenticated", err)
	}
}
