// Package auth holds who may act: API tokens (stored hashed), roles, and the
// principal a request acts as.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
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

// Principal is who a request acts as.
type Principal struct {
	Name string
	Role string
}

// rank orders roles by privilege.
func rank(role string) int {
	switch role {
	case store.RoleViewer:
		return 1
	case store.RoleDeployer:
		return 2
	case store.RoleAdmin:
		return 3
	}
	return 0
}

// ValidRole reports whether role is one of viewer, deployer, admin.
func ValidRole(role string) bool { return rank(role) > 0 }

// Can reports whether p holds at least role.
func (p Principal) Can(role string) bool { return rank(p.Role) >= rank(role) && rank(role) > 0 }

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
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	if tok.ExpiresAt != nil && now.After(*tok.ExpiresAt) {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Name: "token:" + tok.Name, Role: tok.Role}, nil
}

// Create makes a token and returns its secret, which is shown once and
// never stored. A given secret (from BASCULE_ADMIN_TOKEN) is used as is.
func (t *Tokens) Create(ctx context.Context, name, role, secret string, ttl time.Duration) (string, error) {
	if !ValidRole(role) {
		return "", fmt.Errorf("create token: unknown role %q (viewer, deployer or admin)", role)
	}
	if secret == "" {
		var err error
		if secret, err = NewSecret(); err != nil {
			return "", err
		}
	} else if !strings.HasPrefix(secret, tokenPrefix) || len(secret) < len(tokenPrefix)+20 {
		return "", fmt.Errorf("create token: a given token must start with %q and have at least 20 more characters", tokenPrefix)
	}
	tok := &store.Token{Name: name, Hash: HashSecret(secret), Role: role, CreatedAt: time.Now().UTC()}
	if ttl > 0 {
		exp := tok.CreatedAt.Add(ttl)
		tok.ExpiresAt = &exp
	}
	if err := t.Store.CreateToken(ctx, tok); err != nil {
		return "", err
	}
	return secret, nil
}
