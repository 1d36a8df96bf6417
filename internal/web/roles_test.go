package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

// routePath fills a route pattern's wildcards with harmless values.
func routePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	r := strings.NewReplacer("{id}", "999", "{key}", "nope", "{name}", "nobody")
	return method, r.Replace(path)
}

// TestRolesOnEveryRoute walks every guarded route with no session and
// with each role: without a session a page sends to the login and an
// action is not performed; a role too low gets 403; the others get past
// the guard. Every mutating route needs more than the viewer role.
func TestRolesOnEveryRoute(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	browsers := map[string]*browser{"": s.anonymous(), store.RoleViewer: s.login("vera"),
		store.RoleDeployer: s.login("dana"), store.RoleAdmin: s.login("ada")}
	rank := map[string]int{"": 0, store.RoleViewer: 1, store.RoleDeployer: 2, store.RoleAdmin: 3}
	routes := s.h.Routes()
	if len(routes) < 20 {
		t.Fatalf("Routes() lists %d routes, want the whole table", len(routes))
	}
	for pattern, need := range routes {
		method, path := routePath(pattern)
		if method == http.MethodPost && rank[need] < rank[store.RoleDeployer] {
			t.Errorf("%s needs only %s: a viewer could change something", pattern, need)
		}
		for role, b := range browsers {
			var r reply
			if method == http.MethodGet {
				if strings.HasSuffix(path, "/events") {
					continue // streams are walked in their own tests
				}
				r = b.get(path)
			} else {
				r = b.post(path, url.Values{})
			}
			switch {
			case role == "":
				if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?") {
					t.Errorf("%s without a session = %d (Location %q), want 303 to /login", pattern, r.status, r.header.Get("Location"))
				}
			case rank[role] < rank[need]:
				if r.status != http.StatusForbidden {
					t.Errorf("%s as %s = %d, want 403 (needs %s)", pattern, role, r.status, need)
				}
			default:
				if r.status == http.StatusForbidden || r.status == http.StatusUnauthorized || strings.HasPrefix(r.header.Get("Location"), "/login") {
					t.Errorf("%s as %s = %d, want past the guard", pattern, role, r.status)
				}
			}
		}
	}
	if got := s.live(); got != "blue" {
		t.Errorf("after walking every route production is on %s, want blue: nothing was confirmed", got)
	}
}

// TestViewerSeesNoActionsAndCannotForge: the viewer's overview has no
// action forms, and a forged POST with a valid CSRF token still gets 403,
// changes nothing and is audited.
func TestViewerSeesNoActionsAndCannotForge(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	vera := s.login("vera")
	page := vera.get("/").body
	for _, action := range []string{`action="/deploy"`, `action="/go-live"`, `action="/rollback"`, `action="/finalize"`, "data-ask"} {
		if strings.Contains(page, action) {
			t.Errorf("the viewer's overview has %s, want no action", action)
		}
	}
	if flags := vera.get("/flags").body; strings.Contains(flags, `class="toggle"`) {
		t.Error("the viewer's flags page has toggles")
	}
	before := len(s.deployments())
	for _, path := range []string{"/go-live", "/rollback", "/deploy", "/finalize", "/flags/x/change", "/users"} {
		r := vera.post(path, url.Values{"confirm": {"yes"}, "version": {"v2"}, "live": {"blue"}, "op": {"enable"}})
		if r.status != http.StatusForbidden {
			t.Errorf("forged POST %s by the viewer = %d, want 403", path, r.status)
		}
	}
	if s.live() != "blue" || len(s.deployments()) != before {
		t.Errorf("after the viewer's forged POSTs: live %s with %d deployments, want blue with %d", s.live(), len(s.deployments()), before)
	}
	if denied := s.audit("denied"); len(denied) < 6 || denied[0].Actor != "vera" || denied[0].Outcome != "forbidden" {
		t.Errorf("audit has %d denied entries (newest %+v), want the viewer's 6 attempts", len(denied), denied)
	}
}

// TestCSRFRequired: a session's change without its CSRF token, or with
// another one, is refused and does nothing; the header works as the field.
func TestCSRFRequired(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	dana := s.login("dana")
	form := url.Values{"confirm": {"yes"}, "live": {"blue"}}
	for name, r := range map[string]reply{
		"no token":           dana.postRaw("/go-live", form, nil),
		"wrong token":        dana.postRaw("/go-live", url.Values{"confirm": {"yes"}, "csrf_token": {"forged"}}, nil),
		"other user's token": dana.postRaw("/go-live", url.Values{"confirm": {"yes"}, "csrf_token": {s.login("dave").csrf}}, nil),
	} {
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "CSRF token") {
			t.Errorf("go-live with %s = %d, want 403 naming the CSRF token", name, r.status)
		}
	}
	if s.live() != "blue" {
		t.Fatalf("after refused go-lives production is on %s, want blue", s.live())
	}
	if csrf := s.audit("denied"); len(csrf) != 3 || csrf[0].Outcome != "csrf" {
		t.Errorf("audit has %d denied entries, want 3 csrf", len(csrf))
	}
	r := dana.postRaw("/go-live", form, []string{"X-CSRF-Token", dana.csrf})
	if r.status != http.StatusSeeOther || s.live() != "green" {
		t.Errorf("go-live with the X-CSRF-Token header = %d, live %s; want 303 and green", r.status, s.live())
	}
	if r := dana.postRaw("/logout", nil, nil); r.status != http.StatusForbidden {
		t.Errorf("logout without the CSRF token = %d, want 403: another site must not log users out", r.status)
	}
}

// TestPagesNeedSession: a page sends a visitor to the login and back; an
// event stream answers 401, which the page's script reports.
func TestPagesNeedSession(t *testing.T) {
	s := newStack(t)
	b := s.anonymous()
	r := b.get("/history?state=failed")
	if want := "/login?next=%2Fhistory%3Fstate%3Dfailed"; r.status != http.StatusSeeOther || r.header.Get("Location") != want {
		t.Errorf("GET /history without session = %d to %q, want 303 to %q", r.status, r.header.Get("Location"), want)
	}
	req, _ := http.NewRequest("GET", s.srv.URL+"/overview/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	if r := b.do(req); r.status != http.StatusUnauthorized {
		t.Errorf("GET /overview/events without session = %d, want 401", r.status)
	}
	if r := b.get("/login"); r.status != http.StatusOK || !strings.Contains(r.body, `name="password"`) {
		t.Errorf("GET /login = %d, want the form", r.status)
	}
}
