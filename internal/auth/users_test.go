package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

func TestUserCreateValidates(t *testing.T) {
	a, _ := newAuth(t, newClock(), auth.Options{})
	ctx := context.Background()
	cases := []struct{ name, role, password, want string }{
		{"Bob", "viewer", "long enough", "user name"},
		{"bob smith", "viewer", "long enough", "user name"},
		{"", "viewer", "long enough", "user name"},
		{"token:ci", "viewer", "long enough", "user name"},
		{"bob", "root", "long enough", "role"},
		{"bob", "evaluator", "long enough", "role"}, // for applications' tokens only
		{"bob", "viewer", "short", "password"},
		{"bob", "viewer", strings.Repeat("x", 1025), "password"},
	}
	for _, tc := range cases {
		_, err := a.Users().Create(ctx, tc.name, tc.role, tc.password)
		var ie *auth.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Create(%q, %q, %d chars) = %v, want an InputError about the %s", tc.name, tc.role, len(tc.password), err, tc.want)
		}
	}
	if _, err := a.Users().Create(ctx, "alice", "viewer", "another password"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Create(alice again) = %v, want ErrConflict", err)
	}
	u, err := a.Users().Create(ctx, "bob@example.com", "viewer", "pässwörd-ünicode")
	if err != nil || u.ID == 0 || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("Create(bob@example.com) = %+v, %v", u, err)
	}
}

func TestUserVerify(t *testing.T) {
	a, _ := newAuth(t, newClock(), auth.Options{})
	ctx := context.Background()
	if u, err := a.Users().Verify(ctx, "dave", "password-dave"); err != nil || u.Role != "deployer" {
		t.Errorf("Verify(dave, right password) = %+v, %v; want deployer", u, err)
	}
	for _, c := range [][2]string{{"dave", "password-alice"}, {"nobody", "password-dave"}, {"dave", ""}} {
		if _, err := a.Users().Verify(ctx, c[0], c[1]); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("Verify(%s, %s) = %v, want ErrUnauthenticated", c[0], c[1], err)
		}
	}
	off := true
	if _, err := a.Users().Update(ctx, "dave", auth.UserChange{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Users().Verify(ctx, "dave", "password-dave"); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Verify(disabled dave) = %v, want ErrUnauthenticated", err)
	}
}

func TestUserUpdate(t *testing.T) {
	a, db := newAuth(t, newClock(), auth.Options{})
	ctx := context.Background()
	id, _, _ := a.Sessions().Create(ctx, "dave")
	u, err := a.Users().Update(ctx, "dave", auth.UserChange{Role: "admin"})
	if err != nil || u.Role != "admin" {
		t.Fatalf("Update(dave, role admin) = %+v, %v", u, err)
	}
	if _, err := a.Sessions().Lookup(ctx, id); err != nil {
		t.Errorf("session after a role change = %v, want kept (the role is read at each request)", err)
	}
	if _, err := a.Users().Update(ctx, "dave", auth.UserChange{Password: "new password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Users().Verify(ctx, "dave", "new password"); err != nil {
		t.Errorf("Verify(new password) = %v", err)
	}
	if _, err := a.Users().Verify(ctx, "dave", "password-dave"); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Verify(old password) = %v, want ErrUnauthenticated", err)
	}
	if _, err := a.Sessions().Lookup(ctx, id); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("session after a password change = %v, want ended", err)
	}
	if _, err := a.Users().Update(ctx, "nobody", auth.UserChange{Role: "admin"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update(nobody) = %v, want ErrNotFound", err)
	}
	if _, err := a.Users().Update(ctx, "dave", auth.UserChange{Role: "god"}); err == nil {
		t.Errorf("Update(role god) = nil, want an error")
	}
	if got, _ := db.User(ctx, "dave"); got.Role != "admin" {
		t.Errorf("role after a refused update = %s, want unchanged admin", got.Role)
	}
}

// TestLastAdminIsKept: nobody can lock everyone out of user management.
func TestLastAdminIsKept(t *testing.T) {
	a, _ := newAuth(t, newClock(), auth.Options{})
	ctx := context.Background()
	off := true
	for what, err := range map[string]error{
		"delete":  a.Users().Delete(ctx, "alice"),
		"demote":  second(a.Users().Update(ctx, "alice", auth.UserChange{Role: "viewer"})),
		"disable": second(a.Users().Update(ctx, "alice", auth.UserChange{Disabled: &off})),
	} {
		if !errors.Is(err, auth.ErrLastAdmin) {
			t.Errorf("%s the only admin = %v, want ErrLastAdmin", what, err)
		}
	}
	if _, err := a.Users().Update(ctx, "dave", auth.UserChange{Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Users().Delete(ctx, "alice"); err != nil {
		t.Errorf("delete alice with dave admin too = %v", err)
	}
	if err := a.Users().Delete(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete alice twice = %v, want ErrNotFound", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestTokenIssueAndExpiry(t *testing.T) {
	clk := newClock()
	a, db := newAuth(t, clk, auth.Options{})
	ctx := context.Background()
	tok, secret, err := a.Tokens().Issue(ctx, "ci", "deployer", time.Hour)
	if err != nil || !strings.HasPrefix(secret, "bsc_") || tok.ID == 0 || tok.ExpiresAt == nil {
		t.Fatalf("Issue = %+v, %q, %v", tok, secret, err)
	}
	if tok.Hash == secret || strings.Contains(tok.Hash, secret) {
		t.Fatalf("stored hash %q contains the secret", tok.Hash)
	}
	p, err := a.Tokens().Authenticate(ctx, secret)
	if err != nil || p.Name != "token:ci" || p.Role != "deployer" || p.Via != auth.ViaToken {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	clk.Advance(time.Hour)
	if _, err := a.Tokens().Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Authenticate after expiry = %v, want ErrUnauthenticated", err)
	}
	_, secret2, _ := a.Tokens().Issue(ctx, "forever", "viewer", 0)
	if err := db.DeleteToken(ctx, tok.ID+1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Tokens().Authenticate(ctx, secret2); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Authenticate after revocation = %v, want ErrUnauthenticated", err)
	}
	if _, _, err := a.Tokens().Issue(ctx, "shop-sdk", "evaluator", 0); err != nil {
		t.Errorf("Issue(evaluator) = %v, want an application token", err)
	}
	for _, bad := range [][2]string{{"", "viewer"}, {"a b", "viewer"}, {"ci", "root"}} {
		var ie *auth.InputError
		if _, _, err := a.Tokens().Issue(ctx, bad[0], bad[1], 0); !errors.As(err, &ie) {
			t.Errorf("Issue(%q, %q) = %v, want an InputError", bad[0], bad[1], err)
		}
	}
}
