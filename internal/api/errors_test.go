package api

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
)

// TestAuthErrorsMapToStatus: the one error mapping turns the auth
// package's errors into the statuses and codes clients branch on.
func TestAuthErrorsMapToStatus(t *testing.T) {
	h := New(Options{})
	cases := []struct {
		err          error
		status       int
		code, header string
		value        string
	}{
		{fmt.Errorf("authenticate: %w", auth.ErrCSRF), 403, "csrf", "", ""},
		{fmt.Errorf("%w: POST /api/v1/rollback was sent from another site", auth.ErrCrossOrigin), 403, "cross_origin", "", ""},
		{fmt.Errorf("log in: %w", &auth.RateLimitError{RetryAfter: 90*time.Second + 300*time.Millisecond}), 429, "rate_limited", "Retry-After", "90"},
		{&auth.InputError{Msg: "role \"root\": want viewer, deployer or admin"}, 400, "bad_request", "", ""},
		{auth.ErrLastAdmin, 409, "last_admin", "", ""},
		{auth.ErrUnauthenticated, 401, "unauthenticated", "WWW-Authenticate", `Bearer realm="bascule"`},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		h.writeError(rec, httptest.NewRequest("POST", "/api/v1/users", nil), tc.err)
		var body struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tc.status || body.Error.Code != tc.code || body.Error.Message == "" {
			t.Errorf("writeError(%v) = %d %s %q, want %d %s", tc.err, rec.Code, body.Error.Code, body.Error.Message, tc.status, tc.code)
		}
		if tc.header != "" && rec.Header().Get(tc.header) != tc.value {
			t.Errorf("writeError(%v): %s = %q, want %q", tc.err, tc.header, rec.Header().Get(tc.header), tc.value)
		}
	}
}
