package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The Finalize card and its confirmation say what a rollback will do
// afterwards, and the rollback then does it: without a database, finalize
// runs no migrations and rolling back stays possible.
func TestFinalizeCardMatchesRollback(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	dana := s.login("dana")
	if r := dana.post("/go-live", url.Values{"confirm": {"yes"}, "live": {"blue"}}); r.status != http.StatusSeeOther || s.live() != "green" {
		t.Fatalf("go-live = %d, live %s", r.status, s.live())
	}
	const rule = "rolling back to v1 stays possible"
	if page := dana.get("/").body; !strings.Contains(page, rule) || strings.Contains(page, "is refused") {
		t.Errorf("the Finalize card does not say %q (or says it is refused)", rule)
	}
	if page := dana.post("/finalize", url.Values{"live": {"green"}}).body; !strings.Contains(page, rule) {
		t.Errorf("the finalize confirmation does not say %q:\n%s", rule, page)
	}
	if r := dana.post("/finalize", url.Values{"confirm": {"yes"}, "live": {"green"}}); r.status != http.StatusSeeOther {
		t.Fatalf("finalize = %d", r.status)
	}
	if r := dana.post("/rollback", url.Values{"confirm": {"yes"}, "live": {"green"}}); r.status != http.StatusSeeOther || s.live() != "blue" {
		t.Errorf("rollback after finalize = %d, live %s; want it done, as the card said", r.status, s.live())
	}
}

// The Deploy form preselects the newest release that is not live already.
func TestDeployFormPreselectsAReleaseNotLive(t *testing.T) {
	s := newStack(t)
	s.liveWithNext()
	dana := s.login("dana")
	if r := dana.post("/go-live", url.Values{"confirm": {"yes"}, "live": {"blue"}}); r.status != http.StatusSeeOther || s.live() != "green" {
		t.Fatalf("go-live = %d, live %s", r.status, s.live())
	}
	page := dana.get("/").body
	if strings.Contains(page, `<option value="v2" selected>`) || !strings.Contains(page, `<option value="v1" selected>`) {
		t.Errorf("with v2 live the Deploy form preselects:\n%s\nwant v1, not the live v2", optionLines(page))
	}
}

// A web login's audit entry says where it came from, as other entries do.
func TestLoginAuditHasSource(t *testing.T) {
	s := newStack(t)
	dana := s.login("dana")
	dana.post("/logout", nil)
	for _, action := range []string{"login", "logout"} {
		e := s.audit(action)
		if len(e) == 0 || !strings.HasPrefix(e[0].Source, "127.0.0.1") || e[0].Target == "" {
			t.Errorf("%s audit entries = %+v, want the client address in Source (the FROM column) and the account in Target", action, e)
		}
	}
}

func optionLines(page string) string {
	var out []string
	for _, l := range strings.Split(page, "\n") {
		if strings.Contains(l, "<option") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, "\n")
}
