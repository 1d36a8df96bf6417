package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// The audit entries of this file name what changed, never a password or
// a token secret.

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	list, err := h.opts.Auth.Users().List(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": list})
	return nil
}

type createUserRequest struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"` // empty: one is generated and answered once
}

// createUserResponse holds the generated password, if any: the only time
// anyone sees it.
type createUserResponse struct {
	User     store.User `json:"user"`
	Password string     `json:"password,omitempty"`
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req createUserRequest
	if err := h.decode(w, r, &req); err != nil {
		return err
	}
	var resp createUserResponse
	if req.Password == "" {
		var err error
		if req.Password, err = auth.GeneratePassword(); err != nil {
			return err
		}
		resp.Password = req.Password
	}
	u, err := h.opts.Auth.Users().Create(r.Context(), req.Name, req.Role, req.Password)
	h.auditResult(r, p, "user.add", req.Name, "role "+req.Role, err)
	if err != nil {
		return err
	}
	resp.User = u
	w.Header().Set("Location", "/api/v1/users/"+u.Name)
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var ch auth.UserChange
	if err := h.decode(w, r, &ch); err != nil {
		return err
	}
	if ch == (auth.UserChange{}) {
		return errorf(http.StatusBadRequest, "bad_request", `nothing to change: give "role", "password" or "disabled"`)
	}
	name := r.PathValue("name")
	u, err := h.opts.Auth.Users().Update(r.Context(), name, ch)
	h.auditResult(r, p, "user.update", name, describeChange(ch), err)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

// describeChange says what an update changes, for the audit log.
func describeChange(ch auth.UserChange) string {
	var parts []string
	if ch.Role != "" {
		parts = append(parts, "role "+ch.Role)
	}
	if ch.Password != "" {
		parts = append(parts, "password changed")
	}
	if ch.Disabled != nil {
		parts = append(parts, map[bool]string{true: "disabled", false: "enabled"}[*ch.Disabled])
	}
	return strings.Join(parts, ", ")
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	name := r.PathValue("name")
	err := h.opts.Auth.Users().Delete(r.Context(), name)
	h.auditResult(r, p, "user.remove", name, "", err)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	list, err := h.opts.Store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
	return nil
}

type createTokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// ExpiresIn is a Go duration ("720h"); empty: 90 days; "never": no
	// expiry.
	ExpiresIn string `json:"expires_in"`
}

// defaultTokenTTL applies when a token request names no expiry: a token
// forgotten in some CI settings should not work forever.
const defaultTokenTTL = 90 * 24 * time.Hour

func parseTTL(s string) (time.Duration, error) {
	switch s {
	case "":
		return defaultTokenTTL, nil
	case "never":
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errorf(http.StatusBadRequest, "bad_request", `expires_in %q: want a positive duration such as "720h", or "never"`, s)
	}
	return d, nil
}

// createTokenResponse holds the secret: the only time anyone sees it.
type createTokenResponse struct {
	Token  store.Token `json:"token"`
	Secret string      `json:"secret"`
}

func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req createTokenRequest
	if err := h.decode(w, r, &req); err != nil {
		return err
	}
	ttl, err := parseTTL(req.ExpiresIn)
	if err != nil {
		return err
	}
	tok, secret, err := h.opts.Auth.Tokens().Issue(r.Context(), req.Name, req.Role, ttl)
	detail := "role " + req.Role + ", no expiry"
	if tok.ExpiresAt != nil {
		detail = "role " + req.Role + ", expires " + tok.ExpiresAt.Format(time.RFC3339)
	}
	h.auditResult(r, p, "token.create", req.Name, detail, err)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/tokens/%d", tok.ID))
	writeJSON(w, http.StatusCreated, createTokenResponse{Token: tok, Secret: secret})
	return nil
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return errorf(http.StatusBadRequest, "bad_request", "token id %q is not a number", r.PathValue("id"))
	}
	target, err := h.opts.Auth.Tokens().Revoke(r.Context(), id)
	h.auditResult(r, p, "token.revoke", target, "", err)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no token with id %d", id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// auditResult records an action and whether it worked; a failure's detail
// is the message the caller got.
func (h *Handler) auditResult(r *http.Request, p auth.Principal, action, target, detail string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "failed"
		e, _ := toError(err)
		detail = strings.TrimPrefix(detail+"; "+e.Message, "; ")
	}
	h.audit(r, p, action, target, outcome, detail)
}
