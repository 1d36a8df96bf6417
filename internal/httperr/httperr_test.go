package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/store"
)

func TestOf(t *testing.T) {
	holder := &store.Deployment{ID: 7}
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"deployment in the way", &deploy.ConflictError{Msg: "deployment #7 is running", Holder: holder}, 409, "conflict"},
		{"flags changed meanwhile", fmt.Errorf("apply: %w", &flag.ConflictError{Base: 3, Current: 4}), 409, "version_conflict"},
		{"invalid flags", &feature.ValidationError{Problems: []feature.Problem{{Kind: "flag", Key: "a", Field: "key", Message: "bad"}}}, 400, "invalid_flags"},
		{"bad input", &auth.InputError{Msg: "name is required"}, 400, "bad_request"},
		{"unknown release", fmt.Errorf("deploy v9: %w", deploy.ErrUnknownRelease), 404, "unknown_release"},
		{"not the leader", deploy.ErrNotLeader, 503, "not_leader"},
		{"deposed during the request", fmt.Errorf("create deployment: %w", &store.FencedError{Lease: "control", Token: 1, Current: 2}), 503, "not_leader"},
		{"flag exists", flag.ErrExists, 409, "exists"},
		{"no token", auth.ErrUnauthenticated, 401, "unauthenticated"},
		{"wrong role", auth.ErrForbidden, 403, "forbidden"},
		{"another site", auth.ErrCrossOrigin, 403, "cross_origin"},
		{"too many logins", &auth.RateLimitError{}, 429, "rate_limited"},
		{"unsafe archive", &artifact.UnsafeEntryError{Entry: "b", Reason: "leaves"}, 422, "unsafe_archive"},
		{"unreadable archive", fmt.Errorf("%w: gzip", artifact.ErrInvalidArchive), 422, "invalid_archive"},
		{"not found", fmt.Errorf("token 3: %w", store.ErrNotFound), 404, "not_found"},
		{"store conflict", store.ErrConflict, 409, "conflict"},
		{"own error", New(http.StatusTeapot, "teapot", "short and stout"), 418, "teapot"},
	}
	for _, tc := range cases {
		e, known := Of(tc.err)
		if !known || e.Status != tc.status || e.Code != tc.code {
			t.Errorf("%s: Of(%v) = %d %q (known %v), want %d %q", tc.name, tc.err, e.Status, e.Code, known, tc.status, tc.code)
		}
		if e.Text() == "" {
			t.Errorf("%s: no text for a person", tc.name)
		}
	}
	if e, _ := Of(&deploy.ConflictError{Msg: "x", Holder: holder}); e.Holder != holder {
		t.Errorf("a deployment conflict's answer lost the deployment in the way")
	}
	secret := errors.New("open /var/lib/bascule/bascule.db: permission denied")
	if e, known := Of(secret); known || e.Status != 500 || e.Message == secret.Error() {
		t.Errorf("Of(an unknown error) = %d %q (known %v), want an internal error that shows no detail", e.Status, e.Message, known)
	}
}
