package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// tokenTTLs are the expiries the form offers; a token forgotten in some CI
// settings should not work forever, so "never" is the last choice.
var tokenTTLs = map[string]time.Duration{"30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour,
	"365d": 365 * 24 * time.Hour, "never": 0}

// createToken issues an API token and shows its secret once.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	ttl, ok := tokenTTLs[r.PostFormValue("expires")]
	if !ok {
		return badRequest("Choose when the token expires.")
	}
	tok, secret, err := h.opts.Auth.Tokens().Issue(r.Context(), name, role, ttl)
	detail := "role " + role + ", no expiry"
	if tok.ExpiresAt != nil {
		detail = "role " + role + ", expires " + tok.ExpiresAt.Format(time.RFC3339)
	}
	h.auditResult(r, p, "token.create", name, detail, err)
	if err != nil {
		return h.userResult(w, r, p, err, nil)
	}
	return h.userResult(w, r, p, nil, &secretView{What: "Token " + name + " (" + role + ")", Secret: secret})
}

// revokeToken deletes a token; requests carrying it fail from now on.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return &pageError{Status: http.StatusNotFound, Msg: "There is no such token."}
	}
	target, err := h.opts.Auth.Tokens().Revoke(r.Context(), id)
	h.auditResult(r, p, "token.revoke", target, "", err)
	if errors.Is(err, store.ErrNotFound) {
		err = &pageError{Status: http.StatusNotFound, Msg: "There is no token " + target + "; was it revoked already?"}
	}
	return h.userResult(w, r, p, err, nil)
}
