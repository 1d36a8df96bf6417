package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bascule/bascule/internal/auth"
)

// BenchmarkAuthenticate measures the per-request cost of each credential:
// one indexed store read for a token, two for a session (the session and
// the user's current role).
func BenchmarkAuthenticate(b *testing.B) {
	clk := newClock()
	a, _ := newAuth(b, clk, auth.Options{})
	ctx := context.Background()
	_, secret, err := a.Tokens().Issue(ctx, "ci", "deployer", 0)
	if err != nil {
		b.Fatal(err)
	}
	id, _, err := a.Sessions().Create(ctx, "dave")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("token", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/api/v1/status", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		benchAuthenticate(b, a, r)
	})
	b.Run("session", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: id})
		benchAuthenticate(b, a, r)
	})
}

func benchAuthenticate(b *testing.B, a *auth.Authenticator, r *http.Request) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPassword is the cost of one login with the default
// parameters: the price of each guess an attacker makes.
func BenchmarkVerifyPassword(b *testing.B) {
	h, err := auth.HashPassword("correct horse battery staple", auth.PasswordParams{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		auth.VerifyPassword(h, "correct horse battery staple")
	}
}
