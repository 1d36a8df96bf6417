package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/flag"
)

const evil = `<img src=x onerror="alert(1)"><script>alert(2)</script>`

// TestUserTextIsEscaped: HTML in release notes, flag descriptions, owners,
// deployment reasons and user names is shown as text on every page.
func TestUserTextIsEscaped(t *testing.T) {
	s := newStack(t)
	s.addRelease("v1", "notes "+evil)
	ctx := context.Background()
	if _, err := s.deploy.Deploy(ctx, "v1", "reason "+evil, "dana"); err != nil {
		t.Fatal(err)
	}
	_, err := s.flags.Update(ctx, flag.Edit{Actor: "ada", Action: "flag.create", Target: "checkout"}, func(d *flag.Draft) error {
		return d.CreateFlag(&flag.Flag{Key: "checkout", Description: "desc " + evil, Owner: "owner " + evil})
	})
	if err != nil {
		t.Fatal(err)
	}
	ada := s.login("ada")
	for _, path := range []string{"/releases", "/deployments/1", "/history", "/flags", "/flags/checkout", "/audit", "/"} {
		body := ada.get(path).body
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s shows user text as HTML", path)
		}
		if path != "/" && !strings.Contains(body, "&lt;script&gt;alert(2)&lt;/script&gt;") {
			t.Errorf("GET %s does not show the user text escaped", path)
		}
	}
	r := ada.post("/flags/checkout/change", url.Values{"op": {"describe"}, "description": {"new " + evil}})
	if strings.Contains(r.body, "<script>alert") || !strings.Contains(r.body, "&lt;script&gt;") {
		t.Errorf("the review of a description change shows it as HTML")
	}
}

// TestSecurityHeaders: every answer, pages, login, errors and assets,
// forbids inline script, framing and sniffing.
func TestSecurityHeaders(t *testing.T) {
	s := newStack(t)
	ada := s.login("ada")
	for _, path := range []string{"/", "/login", "/nope", "/static/app.js", "/flags"} {
		h := ada.get(path).header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP allows inline code: %q", path, csp)
		}
		for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
			if h.Get(k) != v {
				t.Errorf("GET %s: %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
	}
	for _, path := range []string{"/", "/flags", "/history", "/users", "/login"} {
		if body := ada.get(path).body; strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
			t.Errorf("GET %s has inline script or style, which the CSP blocks", path)
		}
	}
}

// TestStaticAssets: the assets are embedded, typed and cacheable, and the
// pages link them with a version so a new binary is never run with old code.
func TestStaticAssets(t *testing.T) {
	s := newStack(t)
	b := s.anonymous()
	for path, ctype := range map[string]string{"/static/app.js": "text/javascript", "/static/app.css": "text/css", "/static/favicon.svg": "image/svg+xml"} {
		r := b.get(path)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), ctype) || r.header.Get("Cache-Control") == "" {
			t.Errorf("GET %s = %d %q (Cache-Control %q), want 200 %s, cacheable", path, r.status, r.header.Get("Content-Type"), r.header.Get("Cache-Control"), ctype)
		}
	}
	if page := b.get("/login").body; !strings.Contains(page, `/static/app.js?v=`) {
		t.Error("the login page does not link the versioned script")
	}
}

// TestLogin: a wrong password is refused without saying which part was
// wrong; after a login the user goes back where they were, but never to
// another site.
func TestLogin(t *testing.T) {
	s := newStack(t)
	b := s.anonymous()
	r := b.postRaw("/login", url.Values{"name": {"dana"}, "password": {"wrong password!"}}, nil)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong user name or password.") {
		t.Errorf("login with a wrong password = %d, want 401 with the message", r.status)
	}
	for next, want := range map[string]string{"/history?state=failed": "/history?state=failed", "//evil.example/": "/",
		"https://evil.example/": "/", `/\evil.example`: "/", "": "/"} {
		r := s.anonymous().postRaw("/login", url.Values{"name": {"dana"}, "password": {password}, "next": {next}}, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("login with next=%q = %d to %q, want 303 to %q", next, r.status, r.header.Get("Location"), want)
		}
	}
	r = b.postRaw("/login", url.Values{"name": {"dana"}, "password": {password}}, []string{"Sec-Fetch-Site", "cross-site"})
	if r.status != http.StatusForbidden {
		t.Errorf("login posted from another site = %d, want 403", r.status)
	}
	dana := s.login("dana")
	if r := dana.post("/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("logout = %d, want 303", r.status)
	}
	if r := dana.get("/"); r.status != http.StatusSeeOther {
		t.Errorf("the overview after logout = %d, want 303 to the login", r.status)
	}
}

// TestPagesRender: every page renders for a deployer, with what it is for.
func TestPagesRender(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	ctx := context.Background()
	_, err := s.flags.Update(ctx, flag.Edit{Actor: "ada", Action: "seed"}, func(d *flag.Draft) error {
		if err := d.CreateSegment(&flag.Segment{Key: "staff", Conditions: []flag.Condition{{Attribute: "email", Op: flag.OpEndsWith, Values: []string{"@example.com"}}}}); err != nil {
			return err
		}
		return d.CreateFlag(&flag.Flag{Key: "banner", Enabled: true, Rules: []flag.Rule{{Segment: "staff", Variant: "on"}, {Split: feature.Percent(25000)}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	dana := s.login("dana")
	pages := map[string][]string{
		"/":                     {"Go live with v2…", `id="preview-link"`, "Roll back", "Deploy…", `option value="v2" selected`},
		"/releases":             {"v1", "v2", "live on blue", "idle on green"},
		"/history":              {"#1", "#2", "health"},
		"/history?state=ready":  {"1 of 2 deployments"},
		"/deployments/2":        {"Deploy v2 to", "Health checks", "ready"},
		"/flags":                {"banner", "segment staff: on; everyone: 25% on", "Turn off…"},
		"/flags/banner":         {"segment staff → on", "everyone → 25% on", `value="25"`, "Review rollout…"},
		"/segments":             {"staff", "email ends_with @example.com", "banner"},
		"/segments/staff":       {"email ends_with @example.com"},
		"/audit?action=go-live": {"go-live", "setup"},
		"/deployments/99":       {"not found"},
		"/no/such/page":         {"There is no page at /no/such/page."},
	}
	for path, wants := range pages {
		r := dana.get(path)
		for _, want := range wants {
			if !strings.Contains(r.body, want) {
				t.Errorf("GET %s (%d) lacks %q", path, r.status, want)
			}
		}
	}
}
