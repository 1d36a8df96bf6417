package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bascule/bascule/feature"
)

// TestFlagsCRUD drives flags and segments through the API as an operator
// would: create, read with its version, switch, roll out, delete.
func TestFlagsCRUD(t *testing.T) {
	s := startServer(t)
	deployer := s.token(t, "deployer")
	r := s.call(t, "POST", "/api/v1/segments", deployer, `{"key":"internal-users","conditions":[{"attribute":"email","op":"ends_with","values":["@example.com"]}]}`)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/api/v1/segments/internal-users" {
		t.Fatalf("POST segment = %d %s (Location %q)", r.status, r.body, r.header.Get("Location"))
	}
	r = s.call(t, "POST", "/api/v1/flags", deployer, `{"key":"checkout-v2","owner":"payments","rules":[{"segment":"internal-users","variant":"on"}]}`)
	if r.status != http.StatusCreated || r.header.Get("ETag") != `"v2"` {
		t.Fatalf("POST flag = %d %s (ETag %q), want 201 at version 2", r.status, r.body, r.header.Get("ETag"))
	}
	if r := s.call(t, "POST", "/api/v1/flags", deployer, `{"key":"checkout-v2"}`); r.status != http.StatusConflict || r.errorCode() != "exists" {
		t.Errorf("POST the same flag again = %d %s, want 409 exists", r.status, r.body)
	}
	steps := []struct {
		method, path, body string
		want               string // a line of the answer's changes
	}{
		{"POST", "/api/v1/flags/checkout-v2/enable", "", `~ flag "checkout-v2": enabled: false → true`},
		{"POST", "/api/v1/flags/checkout-v2/rollout", `{"percentage": 12.5}`, "rule 2 added: everyone: 12.5% on"},
		{"POST", "/api/v1/flags/checkout-v2/rollout", `{"percentage": 25}`, "rule 2: everyone: 12.5% on → everyone: 25% on"},
		{"PUT", "/api/v1/flags/checkout-v2", `{"owner":"checkout","enabled":true,"rules":[{"split":[{"variant":"on","weight":50000},{"variant":"off","weight":50000}]}]}`, "owner: payments → checkout"},
	}
	for _, st := range steps {
		r := s.call(t, st.method, st.path, deployer, st.body)
		if r.status != http.StatusOK || !strings.Contains(fmt.Sprint(r.json(t)["changes"]), st.want) {
			t.Errorf("%s %s = %d %s, want 200 with change %q", st.method, st.path, r.status, r.body, st.want)
		}
	}
	f, err := s.admin.Flag(context.Background(), "checkout-v2")
	if err != nil || !f.Enabled || f.Owner != "checkout" || len(f.Rules) != 1 {
		t.Errorf("GET checkout-v2 = %+v, %v; want enabled, owner checkout, one rule", f, err)
	}
	if r := s.call(t, "DELETE", "/api/v1/segments/internal-users", deployer, ""); r.status != http.StatusOK {
		t.Errorf("DELETE an unused segment = %d %s", r.status, r.body)
	}
	if r := s.call(t, "DELETE", "/api/v1/flags/checkout-v2", deployer, ""); r.status != http.StatusOK {
		t.Errorf("DELETE flag = %d %s", r.status, r.body)
	}
	if r := s.call(t, "GET", "/api/v1/flags/checkout-v2", deployer, ""); r.status != http.StatusNotFound {
		t.Errorf("GET a deleted flag = %d %s, want 404", r.status, r.body)
	}
	h := s.call(t, "GET", "/api/v1/flags/checkout-v2/history", deployer, "").json(t)["history"].([]any)
	if len(h) != 6 || !strings.Contains(h[0].(map[string]any)["changes"].([]any)[0].(string), `- flag "checkout-v2"`) {
		t.Errorf("history of checkout-v2 = %v, want 6 versions, newest the deletion", h)
	}
}

// TestFlagsBadInput: every mistake is refused at API time with a clear
// message, and the version does not move.
func TestFlagsBadInput(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	cases := []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"unknown flag", "GET", "/api/v1/flags/nope", "", 404, "not_found", `flag "nope" not found`},
		{"switch unknown flag", "POST", "/api/v1/flags/nope/enable", "", 404, "not_found", `flag "nope"`},
		{"unknown field", "PUT", "/api/v1/flags/checkout-v2", `{"enabled":true,"colour":"red"}`, 400, "bad_request", `unknown field "colour"`},
		{"weights", "PUT", "/api/v1/flags/checkout-v2", `{"rules":[{"split":[{"variant":"on","weight":60000},{"variant":"off","weight":30000}]}]}`, 400, "invalid_flags", "weights sum to 90.000%, want 100%"},
		{"unknown segment", "PUT", "/api/v1/flags/checkout-v2", `{"rules":[{"segment":"beta","variant":"on"}]}`, 400, "invalid_flags", `unknown segment "beta"`},
		{"segment in use", "DELETE", "/api/v1/segments/internal-users", "", 400, "invalid_flags", `unknown segment "internal-users"`},
		{"prerequisite cycle", "PUT", "/api/v1/flags/banner", `{"variants":{"off":"none","on":"x"},"prerequisite":{"flag":"banner","variant":"on"}}`, 400, "invalid_flags", "prerequisite: is the flag itself"},
		{"wrong variant type", "PUT", "/api/v1/flags/banner", `{"variants":{"off":"none","on":true}}`, 400, "invalid_flags", "mixed types"},
		{"rollout of a string flag", "POST", "/api/v1/flags/banner/rollout", `{"percentage":5}`, 400, "bad_request", "not a boolean flag"},
		{"rollout over 100", "POST", "/api/v1/flags/checkout-v2/rollout", `{"percentage":101}`, 400, "bad_request", "want 0 to 100"},
		{"rollout without percentage", "POST", "/api/v1/flags/checkout-v2/rollout", `{}`, 400, "bad_request", `"percentage" is required`},
		{"renaming PUT", "PUT", "/api/v1/flags/banner", `{"key":"other"}`, 400, "bad_request", "cannot be renamed"},
		{"bad If-Match", "POST", "/api/v1/flags/banner/disable", "", 400, "bad_request", "If-Match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var header []string
			if c.name == "bad If-Match" {
				header = []string{"If-Match", "yesterday"}
			}
			r := s.call(t, c.method, c.path, adminToken, c.body, header...)
			if r.status != c.status || r.errorCode() != c.code || !strings.Contains(s.errorMessage(t, r), c.msg) {
				t.Errorf("%s %s = %d %s, want %d %s mentioning %q", c.method, c.path, r.status, r.body, c.status, c.code, c.msg)
			}
		})
	}
	if v := s.srv.Flags().Snapshot().Version; v != 1 {
		t.Errorf("after refused changes the flags are at version %d, want 1", v)
	}
}

// TestFlagsApply is flags as code over the API: dry run, every error with
// its line and nothing applied, then an idempotent apply.
func TestFlagsApply(t *testing.T) {
	s := startServer(t)
	bad := strings.Replace(storyFlags, "percentage: 10", "percentage: 110", 1)
	bad = strings.Replace(bad, "segment: internal-users", "segment: staff", 1)
	r := s.call(t, "POST", "/api/v1/flags/apply?file=prod.yaml", adminToken, bad)
	msg := s.errorMessage(t, r)
	for _, want := range []string{"prod.yaml:12: ", `"110" is more than 100%`} {
		if r.status != 400 || r.errorCode() != "invalid_flags_file" || !strings.Contains(msg, want) {
			t.Errorf("apply with errors = %d %q, want 400 invalid_flags_file with %q", r.status, msg, want)
		}
	}
	bad = strings.Replace(storyFlags, "segment: internal-users", "segment: staff", 1)
	bad = strings.Replace(bad, "control: 50%", "control: 40%", 1)
	msg = s.errorMessage(t, s.call(t, "POST", "/api/v1/flags/apply?file=prod.yaml", adminToken, bad))
	if lines := strings.Split(msg, "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "prod.yaml:10: ") || !strings.HasPrefix(lines[1], "prod.yaml:19: ") {
		t.Errorf("apply with two mistakes says %q, want both, each as prod.yaml:line", msg)
	}
	if v := s.srv.Flags().Snapshot().Version; v != 0 {
		t.Fatalf("after refused files the flags are at version %d, want 0: nothing applied", v)
	}
	dry := s.call(t, "POST", "/api/v1/flags/apply?dry_run=true", adminToken, storyFlags).json(t)
	if dry["applied"] != false || len(dry["changes"].([]any)) != 4 || s.srv.Flags().Snapshot().Version != 0 {
		t.Errorf("dry run = %v, want 4 changes, nothing applied", dry)
	}
	first := s.call(t, "POST", "/api/v1/flags/apply", adminToken, storyFlags).json(t)
	second := s.call(t, "POST", "/api/v1/flags/apply", adminToken, storyFlags).json(t)
	if first["applied"] != true || first["version"] != 1.0 || second["applied"] != false || second["version"] != 1.0 || len(second["changes"].([]any)) != 0 {
		t.Errorf("apply then apply again = %v then %v, want version 1 then no changes", first, second)
	}
	exported := s.call(t, "GET", "/api/v1/flags/export", adminToken, "")
	if again := s.call(t, "POST", "/api/v1/flags/apply?dry_run=1", adminToken, string(exported.body)).json(t); len(again["changes"].([]any)) != 0 {
		t.Errorf("the exported file differs from what is applied: %v\n%s", again, exported.body)
	}
}

func (s *testServer) errorMessage(t testing.TB, r reply) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// TestFlagsConcurrentEdits: two editors read version N and both write with
// If-Match: one wins, the other gets 409 and the flags hold the winner's.
func TestFlagsConcurrentEdits(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	etag := s.call(t, "GET", "/api/v1/flags/checkout-v2", adminToken, "").header.Get("ETag")
	if etag != `"v1"` {
		t.Fatalf("ETag = %q, want \"v1\"", etag)
	}
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i, owner := range []string{"alice", "bob"} {
		wg.Go(func() {
			body := `{"owner":"` + owner + `","enabled":true}`
			statuses[i] = s.call(t, "PUT", "/api/v1/flags/checkout-v2", adminToken, body, "If-Match", etag).status
		})
	}
	wg.Wait()
	if !(statuses[0] == 200 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 200) {
		t.Fatalf("two PUTs with If-Match %s = %v, want one 200 and one 409", etag, statuses)
	}
	winner := map[bool]string{true: "alice", false: "bob"}[statuses[0] == 200]
	if f := s.srv.Flags().Snapshot().Flags["checkout-v2"]; f.Owner != winner {
		t.Errorf("owner = %q, want the winner %q", f.Owner, winner)
	}
	r := s.call(t, "POST", "/api/v1/flags/checkout-v2/disable", adminToken, "", "If-Match", etag)
	if r.status != 409 || r.errorCode() != "version_conflict" || !strings.Contains(string(r.body), "changed since version 1") {
		t.Errorf("stale If-Match = %d %s, want 409 version_conflict", r.status, r.body)
	}
}

// TestFlagsAudited: each change is in the audit log with who, what, and
// the before and after of what changed.
func TestFlagsAudited(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	deployer := s.token(t, "deployer")
	s.call(t, "POST", "/api/v1/flags/checkout-v2/rollout", deployer, `{"percentage":20}`)
	r := s.call(t, "GET", "/api/v1/audit", adminToken, "")
	entries := r.json(t)["audit"].([]any)
	var found bool
	for _, e := range entries {
		m := e.(map[string]any)
		if m["action"] == "flag.rollout" && m["actor"] == "token:test-deployer" && m["target"] == "checkout-v2" &&
			strings.Contains(m["detail"].(string), "everyone: 10% on → everyone: 20% on") {
			found = true
		}
	}
	if !found {
		t.Errorf("audit log has no rollout entry by token:test-deployer with before and after:\n%s", r.body)
	}
}

func TestFlagsRoles(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	viewer, evaluator := s.token(t, "viewer"), s.token(t, "evaluator")
	cases := []struct {
		token, method, path string
		status              int
	}{
		{viewer, "GET", "/api/v1/flags", 200},
		{viewer, "GET", "/api/v1/flags/stale", 200},
		{viewer, "POST", "/api/v1/flags/checkout-v2/enable", 403},
		{viewer, "POST", "/api/v1/flags/apply", 403},
		{evaluator, "GET", "/api/v1/flags/snapshot", 200},
		{evaluator, "GET", "/api/v1/flags", 403},
		{evaluator, "GET", "/api/v1/flags/export", 403},
		{evaluator, "GET", "/api/v1/status", 403},
		{"", "GET", "/api/v1/flags/snapshot", 401},
	}
	for _, c := range cases {
		if r := s.call(t, c.method, c.path, c.token, ""); r.status != c.status {
			t.Errorf("%s %s as %s = %d %s, want %d", c.method, c.path, roleOf(c.token, viewer), r.status, r.body, c.status)
		}
	}
}

func roleOf(token, viewer string) string {
	switch token {
	case "":
		return "nobody"
	case viewer:
		return "viewer"
	}
	return "evaluator"
}

// TestFlagSnapshotETag: the snapshot is the wire form with its version as
// ETag, and a client holding it gets 304.
func TestFlagSnapshotETag(t *testing.T) {
	s := startServer(t)
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	r := s.call(t, "GET", "/api/v1/flags/snapshot", key, "")
	snap, err := feature.DecodeSnapshot(r.body)
	if r.status != 200 || err != nil || snap.Version != 1 || r.header.Get("ETag") != `"v1"` || len(snap.Flags) != 3 {
		t.Fatalf("snapshot = %d, ETag %q, %v; want version 1 with 3 flags", r.status, r.header.Get("ETag"), err)
	}
	if r := s.call(t, "GET", "/api/v1/flags/snapshot", key, "", "If-None-Match", `"v1"`); r.status != http.StatusNotModified {
		t.Errorf("snapshot with If-None-Match \"v1\" = %d, want 304", r.status)
	}
	s.call(t, "POST", "/api/v1/flags/banner/disable", adminToken, "")
	if r := s.call(t, "GET", "/api/v1/flags/snapshot", key, "", "If-None-Match", `"v1"`); r.status != 200 || r.header.Get("ETag") != `"v2"` {
		t.Errorf("snapshot after a change with If-None-Match \"v1\" = %d ETag %q, want 200 \"v2\"", r.status, r.header.Get("ETag"))
	}
}
