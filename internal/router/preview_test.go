package router

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const token = "s3cret-token"

func TestPreviewRoutesOnlyWithToken(t *testing.T) {
	r, _, _ := newPair(t, Options{PreviewToken: token, PreviewHosts: []string{"Preview.Example.com"}}, nil, nil)
	base := serve(t, r)
	c := newClient(true)
	tests := []struct {
		name  string
		host  string
		setup func(*http.Request)
		want  Color
	}{
		{"no token", "", func(*http.Request) {}, Blue},
		{"header with token", "", func(q *http.Request) { q.Header.Set("X-Bascule-Preview", token) }, Green},
		{"header with wrong token", "", func(q *http.Request) { q.Header.Set("X-Bascule-Preview", "guess") }, Blue},
		{"header with token prefix", "", func(q *http.Request) { q.Header.Set("X-Bascule-Preview", token[:5]) }, Blue},
		{"cookie with token", "", func(q *http.Request) { q.Header.Set("Cookie", "a=1; bascule_preview="+token+"; b=2") }, Green},
		{"cookie with wrong token", "", func(q *http.Request) { q.AddCookie(&http.Cookie{Name: "bascule_preview", Value: "guess"}) }, Blue},
		{"preview host without token", "preview.example.com", func(*http.Request) {}, Blue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := mustRequest(t, "GET", base+"/echo")
			if tc.host != "" {
				req.Host = tc.host
			}
			tc.setup(req)
			status, _, body := get(t, c, req)
			var s seen
			if err := json.Unmarshal([]byte(body), &s); err != nil || status != 200 {
				t.Fatalf("GET = %d %q (%v), want 200 JSON", status, body, err)
			}
			if s.Color != tc.want {
				t.Errorf("%s: answered by %s, want %s", tc.name, s.Color, tc.want)
			}
			if v := s.Header.Get("X-Bascule-Preview"); v != "" {
				t.Errorf("upstream saw preview header %q; the token must not reach the app", v)
			}
			if ck := s.Header.Get("Cookie"); strings.Contains(ck, "bascule_preview") {
				t.Errorf("upstream saw Cookie %q; the preview cookie must not reach the app", ck)
			}
			if tc.name == "cookie with token" && s.Header.Get("Cookie") != "a=1; b=2" {
				t.Errorf("upstream saw Cookie %q, want the app's own cookies a=1; b=2 kept", s.Header.Get("Cookie"))
			}
		})
	}
}

func TestPreviewHostQueryTokenSetsCookieAndRedirects(t *testing.T) {
	r, _, _ := newPair(t, Options{PreviewToken: token, PreviewHosts: []string{"preview.example.com"}}, nil, nil)
	base := serve(t, r)
	noFollow := newClient(true)
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req := mustRequest(t, "GET", base+"/cart/view?x=1&bascule_preview="+url.QueryEscape(token)+"&y=2")
	req.Host = "PREVIEW.example.com:8080"
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cart/view?x=1&y=2" {
		t.Fatalf("preview host with token = %d Location %q, want 303 to /cart/view?x=1&y=2", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"bascule_preview=" + token, "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(ck, want) {
			t.Errorf("Set-Cookie %q lacks %q", ck, want)
		}
	}

	jar, _ := cookiejar.New(nil)
	browser := newClient(true)
	browser.Jar = jar
	req = mustRequest(t, "GET", base+"/echo?bascule_preview="+token)
	req.Host = "preview.example.com"
	_, color, _ := get(t, browser, req)
	if color != "green" {
		t.Errorf("after following the preview redirect, answered by %s, want green (idle)", color)
	}
	req = mustRequest(t, "GET", base+"/echo")
	req.Host = "preview.example.com" // the jar keys cookies by Host
	_, color, _ = get(t, browser, req)
	if color != "green" {
		t.Errorf("next visit with the preview cookie answered by %s, want green", color)
	}
}

func TestPreviewFallsBackToLiveWithoutIdleUpstream(t *testing.T) {
	blue := startUpstream(t, Blue, nil)
	r := New(Options{PreviewToken: token})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: blue.addr}})
	base := serve(t, r)
	req := mustRequest(t, "GET", base+"/")
	req.Header.Set("X-Bascule-Preview", token)
	if status, color, _ := get(t, newClient(true), req); status != 200 || color != "blue" {
		t.Errorf("preview with no idle upstream = %d from %q, want 200 from blue (live)", status, color)
	}
}

func TestPreviewDisabledWithoutToken(t *testing.T) {
	r, _, _ := newPair(t, Options{PreviewHosts: []string{"preview.example.com"}}, nil, nil)
	base := serve(t, r)
	req := mustRequest(t, "GET", base+"/?bascule_preview=")
	req.Host = "preview.example.com"
	req.Header.Set("X-Bascule-Preview", "")
	req.Header.Set("Cookie", "bascule_preview=")
	if _, color, _ := get(t, newClient(true), req); color != "blue" {
		t.Errorf("empty token with preview disabled answered by %s, want blue", color)
	}
}

func FuzzPreviewMatch(f *testing.F) {
	f.Add("preview.example.com", "", "", "bascule_preview=tok")
	f.Add("PREVIEW.example.com.:443", "tok", "", "")
	f.Add("[::1]:80", "", "a=1; bascule_preview=\"tok\"", "x=1&bascule_preview=t%6Fk")
	f.Add("shop", "to", "bascule_preview=tokk", "bascule_preview=tok&bascule_preview=no")
	r := New(Options{PreviewToken: "tok", PreviewHosts: []string{"Preview.example.com"}})
	p := r.edge.Load().preview
	f.Fuzz(func(t *testing.T, host, header, cookie, query string) {
		req := &http.Request{Host: host, Header: http.Header{}, URL: &url.URL{Path: "/", RawQuery: query}}
		if header != "" {
			req.Header["X-Bascule-Preview"] = []string{header}
		}
		if cookie != "" {
			req.Header["Cookie"] = []string{cookie}
		}
		v := p.match(req)
		switch {
		case header == "tok" && v == toLive:
			t.Errorf("header with the token went live")
		case v == toIdle && !strings.Contains(header+cookie, "tok"):
			t.Errorf("previewed idle without the token in header %q or cookie %q", header, cookie)
		}
		if loc := cleanLocation(req.URL); strings.HasPrefix(loc, "//") || strings.Contains(loc, "bascule_preview=") {
			t.Errorf("cleanLocation(%q) = %q: protocol-relative or still carries the token", query, loc)
		}
		// What is left of a query for the app holds no parameter that an
		// app's parser decodes as the preview one, and a query that has one
		// is always seen to (the fast path hands it to net/http).
		kept, found := withoutPreviewParam(query)
		if vals, _ := url.ParseQuery(query); vals.Has(previewQueryParam) && (!found || !mentionsPreview([]byte(query))) {
			t.Errorf("withoutPreviewParam(%q) missed the preview parameter (found %v)", query, found)
		}
		if vals, _ := url.ParseQuery(kept); vals.Has(previewQueryParam) {
			t.Errorf("withoutPreviewParam(%q) = %q still has the preview parameter", query, kept)
		}
		if !found && kept != query {
			t.Errorf("withoutPreviewParam(%q) = %q changed a query without the parameter", query, kept)
		}
		h := req.Header.Clone()
		r.stripOut(h)
		if h.Get("X-Bascule-Preview") != "" {
			t.Errorf("stripOut left the preview header")
		}
		for _, line := range h["Cookie"] {
			if _, ok := cookieValue(line, "bascule_preview"); ok {
				t.Errorf("stripOut left the preview cookie in %q", line)
			}
		}
		if n := normalizeHost(host); normalizeHost(n) != n && !strings.Contains(host, ":") {
			t.Errorf("normalizeHost(%q) = %q is not idempotent", host, n)
		}
	})
}

// TestPreviewLinks: a preview link (the token in the query) on a preview
// host sets the cookie and redirects; anywhere else, or with a wrong token,
// it is refused with a 403 that says why, on both fronts; with preview off
// the parameter is dropped. In no case does the app see the parameter.
func TestPreviewLinks(t *testing.T) { bothFronts(t, testPreviewLinks) }

func testPreviewLinks(t *testing.T, serve front) {
	var appQueries []string
	var mu sync.Mutex
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		appQueries = append(appQueries, r.URL.RawQuery)
		mu.Unlock()
		io.WriteString(w, "live")
	}))
	t.Cleanup(app.Close)
	route := func(opts Options) string {
		r := New(opts)
		r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: app.Listener.Addr().String()}})
		return serve(t, r)
	}
	withHosts := route(Options{PreviewToken: token, PreviewHosts: []string{"preview.example.com"}})
	noHosts := route(Options{PreviewToken: token})
	off := route(Options{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		name, base, host, query string
		wantStatus              int
		wantBody                string // a substring
		wantQuery               string // what the app receives, when it is reached
	}{
		{"right token on the preview host", withHosts, "preview.example.com", "a=1&bascule_preview=" + token, 303, "", ""},
		{"wrong token on the preview host", withHosts, "preview.example.com", "bascule_preview=guess", 403, "token in this link is not valid", ""},
		{"right token on the production host", withHosts, "shop.example.com", "bascule_preview=" + token, 403, "work on the preview host (preview.example.com)", ""},
		{"escaped name on the production host", withHosts, "shop.example.com", "x=1&bascule%5Fpreview=" + token, 403, "preview host", ""},
		{"right token, no preview host", noHosts, "shop.example.com", "bascule_preview=" + token, 403, "preview links are off", ""},
		{"wrong token, no preview host", noHosts, "shop.example.com", "bascule_preview=x", 403, "not valid", ""},
		{"preview off: dropped", off, "shop.example.com", "a=1&bascule_preview=x&b=2", 200, "live", "a=1&b=2"},
		{"preview off: escaped name dropped", off, "shop.example.com", "bascule_%70review=x;y=1&b=2", 200, "live", "b=2"},
		{"unrelated query untouched", withHosts, "shop.example.com", "q=preview%20bascule&z=%41", 200, "live", "q=preview%20bascule&z=%41"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			appQueries = nil
			mu.Unlock()
			req := mustRequest(t, "GET", tc.base+"/p?"+tc.query)
			req.Host = tc.host
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("GET /p?%s on %s = %d %q, want %d containing %q", tc.query, tc.host, resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if resp.StatusCode == 403 && strings.Contains(string(body), token) {
				t.Errorf("the 403 shows the preview token")
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case tc.wantStatus != 200 && len(appQueries) > 0:
				t.Errorf("the app received %q; a preview link must not reach it", appQueries)
			case tc.wantStatus == 200 && (len(appQueries) != 1 || appQueries[0] != tc.wantQuery):
				t.Errorf("the app received queries %q, want [%q]", appQueries, tc.wantQuery)
			}
		})
	}
}

func TestStripCookiesNeverReachTheApp(t *testing.T) { bothFronts(t, testStripCookiesNeverReachTheApp) }

func testStripCookiesNeverReachTheApp(t *testing.T, serve front) {
	var got []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("Cookie")
	}))
	defer up.Close()
	r := New(Options{StripCookies: []string{"bascule_session"}})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: up.Listener.Addr().String()}})
	base := serve(t, r)
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("Cookie", "cart=42; bascule_session=secret; theme=dark")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 1 || got[0] != "cart=42; theme=dark" {
		t.Errorf("app received Cookie %q, want the session cookie removed and the app's own kept", got)
	}
}
