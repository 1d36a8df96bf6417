package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/auth"
)

// guard authenticates the request and checks the route's role before the
// handler runs.
func (h *Handler) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.authenticate(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if !p.Can(rt.role) {
			h.writeError(w, r, fmt.Errorf("%w: %s needs the %s role; %s has %s", auth.ErrForbidden, rt.pattern, rt.role, p.Name, p.Role))
			return
		}
		if err := rt.handle(w, r, p); err != nil {
			h.writeError(w, r, err)
		}
	})
}

func (h *Handler) authenticate(r *http.Request) (auth.Principal, error) {
	v := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	p, err := h.opts.Tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
	if err != nil && !errors.Is(err, auth.ErrUnauthenticated) {
		return p, err
	}
	return p, err
}
