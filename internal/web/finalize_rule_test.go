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
