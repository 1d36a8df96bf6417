package api_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

var rank = map[string]int{store.RoleEvaluator: 1, store.RoleViewer: 2, store.RoleDeployer: 3, store.RoleAdmin: 4}

// may reports whether a holder of role has may call a route that needs
// need. The router role stands apart: only it and admin have it, and it
// has nothing else.
func may(has, need string) bool {
	if has == store.RoleRouter || need == store.RoleRouter {
		return has == need || (need == store.RoleRouter && has == store.RoleAdmin)
	}
	return rank[has] >= rank[need]
}

// placeholders fill path wildcards with values that name nothing, so that
// an allowed request fails with 400/404 at worst and changes nothing the
// rest of the walk depends on.
var placeholders = map[string]string{"id": "999999", "version": "v0", "name": "nobody"}

var wildcard = regexp.MustCompile(`\{([a-z]+)\}`)

func examplePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = wildcard.ReplaceAllStringFunc(path, func(w string) string {
		if v, ok := placeholders[strings.Trim(w, "{}")]; ok {
			return v
		}
		return "x"
	})
	return method, path
}

func unsafeMethod(m string) bool { return m != http.MethodGet && m != http.MethodHead }

// TestEveryRouteChecksRole walks every API route with no credentials and
// with each role, by API token and by session cookie: too low a role gets
// 403, an allowed one is never refused for who it is.
func TestEveryRouteChecksRole(t *testing.T) {
	f := newFixture(t)
	routes := routesOf(f)
	if len(routes) < 18 {
		t.Fatalf("Routes() has %d routes, want at least the 18 known", len(routes))
	}
	for _, pattern := range routes {
		need := routesRole(f, pattern)
		method, path := examplePath(pattern)
		t.Run(pattern, func(t *testing.T) {
			if r := f.do(nil, method, path, ""); r.status != http.StatusUnauthorized || r.code != "unauthenticated" {
				t.Errorf("no credentials: %s %s = %d %s, want 401 unauthenticated", method, path, r.status, r.code)
			}
			for _, name := range credNames(f) {
				c := f.creds[name]
				r := f.do(&c, method, path, "")
				allowed := may(c.role, need)
				switch {
				case !allowed && (r.status != http.StatusForbidden || r.code != "forbidden"):
					t.Errorf("%s: %s %s = %d %s, want 403 forbidden (route needs %s)", name, method, path, r.status, r.code, need)
				case allowed && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
					t.Errorf("%s: %s %s = %d %s %s, want it let through (route needs %s)", name, method, path, r.status, r.code, r.body, need)
				}
			}
		})
	}
}

// TestRouteRoles: the role table itself keeps the promises of issue 5 —
// viewers (and evaluators) change nothing, only admins manage users and
// tokens.
func TestRouteRoles(t *testing.T) {
	f := newFixture(t)
	for _, pattern := range routesOf(f) {
		need := routesRole(f, pattern)
		method, _ := examplePath(pattern)
		if need == store.RoleRouter {
			// A router's token reports its own heartbeat and follows the
			// stream: nothing a person could change through it.
			if !strings.HasPrefix(pattern, "GET /api/v1/routers/stream") && pattern != "POST /api/v1/routers/heartbeat" {
				t.Errorf("%s needs the router role, which only the routing stream and the heartbeat may", pattern)
			}
			continue
		}
		if rank[need] == 0 {
			t.Errorf("%s needs role %q, not one of evaluator, viewer, deployer, admin, router", pattern, need)
		}
		if unsafeMethod(method) && rank[need] < rank[store.RoleDeployer] {
			t.Errorf("%s changes something but a %s may call it", pattern, need)
		}
		if (strings.Contains(pattern, "/users") || strings.Contains(pattern, "/tokens")) && need != store.RoleAdmin {
			t.Errorf("%s manages users or tokens but needs only %s, want admin", pattern, need)
		}
	}
}

// TestEveryUnsafeRouteNeedsCSRF: a session cookie alone, which a browser
// attaches to a forged cross-site form too, changes nothing.
func TestEveryUnsafeRouteNeedsCSRF(t *testing.T) {
	f := newFixture(t)
	for _, pattern := range routesOf(f) {
		method, path := examplePath(pattern)
		if !unsafeMethod(method) {
			continue
		}
		c := f.creds["admin session"]
		c.dropCSRF = true
		if r := f.do(&c, method, path, ""); r.status != http.StatusForbidden || r.code != "csrf" {
			t.Errorf("admin session without CSRF token: %s %s = %d %s, want 403 csrf", method, path, r.status, r.code)
		}
		c.dropCSRF, c.csrf = false, "forged"
		if r := f.do(&c, method, path, ""); r.status != http.StatusForbidden || r.code != "csrf" {
			t.Errorf("admin session with a wrong CSRF token: %s %s = %d %s, want 403 csrf", method, path, r.status, r.code)
		}
	}
	list, err := f.db.ListAudit(t.Context(), 1)
	if err != nil || len(list) == 0 || list[0].Action != "denied" || list[0].Outcome != "csrf" || list[0].Actor != "admin-user" {
		t.Errorf("last audit entry = %+v, %v; want admin-user denied csrf", list, err)
	}
}

func routesOf(f *fixture) []string {
	var out []string
	for p := range f.h.Routes() {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func routesRole(f *fixture, pattern string) string { return f.h.Routes()[pattern] }

func credNames(f *fixture) []string {
	var out []string
	for name := range f.creds {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
