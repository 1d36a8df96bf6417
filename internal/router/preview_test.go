package router

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
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
		{"preview host with wrong query token", "preview.example.com", func(q *http.Request) { q.URL.RawQuery = "bascule_preview=guess" }, Blue},
		{"query token on a public host", "shop.example.com", func(q *http.Request) { q.URL.RawQuery = "bascule_preview=" + token }, Blue},
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
	p := r.preview
	f.Fuzz(func(t *testing.T, host, header, cookie, query string) {
		req := &http.Request{Host: host, Header: http.Header{}, URL: &url.URL{Path: "/", RawQuery: query}}
		if header != "" {
			req.Header["X-Bascule-Preview"] = []string{header}
		}
		if cookie != "" {
			req.Header["Cookie"] = []string{cookie}
		}
		unescaped, _ := url.QueryUnescape(query)
		v := p.match(req)
		switch {
		case header == "tok" && v == toLive:
			t.Errorf("header with the token went live")
		case v == toIdle && !strings.Contains(header+cookie, "tok"):
			t.Errorf("previewed idle without the token in header %q or cookie %q", header, cookie)
		case v == toRedirect && (normalizeHost(host) != "preview.example.com" || !strings.Contains(unescaped, "tok")):
			t.Errorf("redirect for host %q query %q", host, query)
		}
		if loc := cleanLocation(req.URL); strings.HasPrefix(loc, "//") || strings.Contains(loc, "bascule_preview=") {
			t.Errorf("cleanLocation(%q) = %q: protocol-relative or still carries the token", query, loc)
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
