package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestGoLiveBodies: a go-live body's progressive fields are checked before
// anything moves, and the promote, pause and resume endpoints say when
// there is nothing to act on.
func TestGoLiveBodies(t *testing.T) {
	f := newFixture(t)
	c := f.creds["deployer token"]
	cases := []struct {
		path, body string
		status     int
		code, msg  string
	}{
		{"/api/v1/go-live", `{"steps": [10, 50, 100]}`, 400, "bad_request", `"interval", a duration`},
		{"/api/v1/go-live", `{"steps": [10, 50, 100], "interval": "soon"}`, 400, "bad_request", `"interval", a duration`},
		{"/api/v1/go-live", `{"steps": [50, 10, 100], "interval": "1m"}`, 400, "bad_request", "each step must send more users"},
		{"/api/v1/go-live", `{"steps": [10, 50], "interval": "1m"}`, 400, "bad_request", "the last step must be 100"},
		{"/api/v1/go-live", `{"steps": [10, 100], "interval": "10ms"}`, 400, "bad_request", "at least 1s"},
		{"/api/v1/go-live", `{"steps": [10, 100], "interval": "1m"}`, 409, "conflict", "nothing is live yet"},
		{"/api/v1/rollback", `{"steps": [10, 100]}`, 400, "bad_request", "apply to go-live only"},
		{"/api/v1/finalize", `{"interval": "1m"}`, 400, "bad_request", "apply to go-live only"},
		{"/api/v1/go-live/promote", `{"force": true}`, 400, "bad_request", "rollback only"},
		{"/api/v1/go-live/promote", `{}`, 409, "conflict", "no progressive go-live is in progress"},
		{"/api/v1/go-live/pause", ``, 409, "conflict", "no progressive go-live is in progress"},
		{"/api/v1/go-live/resume", `{"reason": "x"}`, 409, "conflict", "no progressive go-live is in progress"},
	}
	for _, tc := range cases {
		r := f.do(&c, http.MethodPost, tc.path, tc.body)
		var e struct{ Error struct{ Message string } }
		r.decode(t, &e)
		if r.status != tc.status || r.code != tc.code || !strings.Contains(e.Error.Message, tc.msg) {
			t.Errorf("POST %s %s = %d %s %s, want %d %s saying %q", tc.path, tc.body, r.status, r.code, r.body, tc.status, tc.code, tc.msg)
		}
	}
	r := f.do(&c, http.MethodGet, "/api/v1/go-live", "")
	var state map[string]any
	r.decode(t, &state)
	if r.status != 200 || len(state) != 2 || state["guard"] != nil || state["progressive"] != nil {
		t.Errorf("GET /api/v1/go-live = %d %s, want guard and progressive null", r.status, r.body)
	}
}
