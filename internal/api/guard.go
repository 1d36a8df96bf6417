package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// guard authenticates the request and checks the route's role before the
// handler runs. Refused attempts to change something are audited: a
// forged form or a viewer trying to deploy is worth knowing about.
func (h *Handler) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.opts.Auth.Authenticate(r)
		r = r.WithContext(store.WithSource(r.Context(), h.opts.Auth.Source(r, p)))
		if errors.Is(err, auth.ErrCSRF) {
			h.audit(r, p, "denied", r.Method+" "+r.URL.Path, "csrf", "no valid CSRF token")
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if !p.Can(rt.role) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				h.audit(r, p, "denied", r.Method+" "+r.URL.Path, "forbidden", "needs the "+rt.role+" role, has "+p.Role)
			}
			h.writeError(w, r, fmt.Errorf("%w: %s needs the %s role; %s has %s", auth.ErrForbidden, rt.pattern, rt.role, p.Name, p.Role))
			return
		}
		if err := rt.handle(w, r, p); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// Protect puts next, a handler outside the API (such as /metrics), behind
// the API's authentication and a least role, with the API's answers: 401
// without a valid token or session, 403 for a lower role. pattern names it
// in those answers, e.g. "GET /metrics".
func (h *Handler) Protect(pattern, role string, next http.Handler) http.Handler {
	return h.guard(route{pattern: pattern, role: role, handle: func(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
		next.ServeHTTP(w, r)
		return nil
	}})
}
