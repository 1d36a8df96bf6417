// Package auth holds who may act and how they prove it: users with roles
// and argon2id passwords, browser sessions with CSRF tokens, API tokens
// (stored hashed), login rate limiting, and the one Authenticator that the
// API and the web UI both use to turn a request into a Principal.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// ErrUnauthenticated is returned when no valid credential was presented.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrForbidden is returned when the principal's role is too low.
var ErrForbidden = errors.New("forbidden")

// tokenPrefix makes bascule tokens recognisable to secret scanners.
const tokenPrefix = "bsc_"

// NewSecret returns a random token secret with 256 bits of entropy.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret is how tokens are stored. Secrets are long random strings, so
// a fast hash is enough: there is nothing to brute-force.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// How a principal proved who it is.
const (
	ViaToken   = "token"   // an Authorization: Bearer API token
	ViaSession = "session" // a session cookie set at login
)

// Principal is who a request acts as.
type Principal struct {
	// Name is what the audit log and deployments record: the user name
	// for a session, "token:<name>" for an API token.
	Name string
	Role string
	// User is the logged-in user's name; "" for an API token.
	User string
	// Via is ViaToken or ViaSession.
	Via string
	// SessionID identifies the session (it is the SHA-256 of the cookie
	// value, so it is safe to log); "" for an API token.
	SessionID string
	// CSRFToken is the session's token, which the web UI puts in every
	// form (field csrf_token) or sends as the X-CSRF-Token header; "" for
	// an API token.
	CSRFToken string
}

// rank orders roles by privilege.
func rank(role string) int {
	switch role {
	case store.RoleEvaluator:
		return 1
	case store.RoleViewer:
		return 2
	case store.RoleDeployer:
		return 3
	case store.RoleAdmin:
		return 4
	}
	return 0
}

// ValidRole reports whether role is one of evaluator or router (tokens
// only), viewer, deployer, admin.
func ValidRole(role string) bool { return rank(role) > 0 || role == store.RoleRouter }

// Can reports whether p holds at least role. The router role stands
// apart from the ranking: a router token may do what needs the router role
// and nothing else, and only it and admin may do that. So the flag keys
// built into applications (evaluator) cannot report a router's
// acknowledgement, and a router's token cannot read or change anything.
func (p Principal) Can(role string) bool {
	if role == store.RoleRouter || p.Role == store.RoleRouter {
		return p.Role == role || (role == store.RoleRouter && p.Role == store.RoleAdmin)
	}
	return rank(p.Role) >= rank(role) && rank(role) > 0
}

// Tokens authenticates API tokens against a store.
type Tokens struct {
	Store store.Tokens
	Now   func() time.Time // nil: time.Now
}

// Authenticate returns the principal of a bearer token secret.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return Principal{}, ErrUnauthenticated
	}
	tok, err := t.Store.TokenByHash(ctx, HashSecret(secret))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate token: %w", err)
	}
	if tok.ExpiresAt != nil && !t.now().Before(*tok.ExpiresAt) {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Name: "token:" + tok.Name, Role: tok.Role, Via: ViaToken}, nil
}

// tokenNameRE is what a token's name may be: it shows in the audit log
// as "token:<name>".
var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Create makes a token and returns its secret, which is shown once and
// never stored. A given secret (from BASCULE_ADMIN_TOKEN) is used as is.
func (t *Tokens) Create(ctx context.Context, name, role, secret string, ttl time.Duration) (string, error) {
	_, secret, err := t.issue(ctx, name, role, secret, ttl)
	return secret, err
}

// Issue makes a token with a new random secret and returns the stored
// record and the secret, which is shown once and never stored. ttl <= 0
// means it never expires. A bad name or role gives an *InputError.
func (t *Tokens) Issue(ctx context.Context, name, role string, ttl time.Duration) (store.Token, string, error) {
	return t.issue(ctx, name, role, "", ttl)
}

func (t *Tokens) issue(ctx context.Context, name, role, secret string, ttl time.Duration) (store.Token, string, error) {
	if !tokenNameRE.MatchString(name) {
		return store.Token{}, "", inputErrorf("token name %q: want 1-64 letters, digits, '.', '_', '@', '-', starting with a letter or digit", name)
	}
	if err := validateTokenRole(role); err != nil {
		return store.Token{}, "", err
	}
	if secret == "" {
		var err error
		if secret, err = NewSecret(); err != nil {
			return store.Token{}, "", err
		}
	} else if !strings.HasPrefix(secret, tokenPrefix) || len(secret) < len(tokenPrefix)+20 {
		return store.Token{}, "", fmt.Errorf("create token: a given token must start with %q and have at least 20 more characters", tokenPrefix)
	}
	tok := store.Token{Name: name, Hash: HashSecret(secret), Role: role, CreatedAt: t.now()}
	if ttl > 0 {
		exp := tok.CreatedAt.Add(ttl)
		tok.ExpiresAt = &exp
	}
	if err := t.Store.CreateToken(ctx, &tok); err != nil {
		return store.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return tok, secret, nil
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// Revoke deletes the token with id: requests carrying it fail from now on.
// It returns how the audit log names it ("#7 ci-deploy"), also when it
// fails; ErrNotFound (from the store) when there is no such token.
func (t *Tokens) Revoke(ctx context.Context, id int64) (string, error) {
	target := fmt.Sprintf("#%d", id)
	if list, err := t.Store.ListTokens(ctx); err == nil {
		for _, tok := range list {
			if tok.ID == id {
				target += " " + tok.Name
			}
		}
	}
	return target, t.Store.DeleteToken(ctx, id)
}
