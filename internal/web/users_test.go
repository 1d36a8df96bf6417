package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

var secretField = regexp.MustCompile(`id="secret" readonly value="([^"]+)"`)

// TestTokensShownOnce: a new token's secret is on the answer to its
// creation and nowhere after; it works until it is revoked.
func TestTokensShownOnce(t *testing.T) {
	s := newStack(t)
	ada := s.login("ada")
	r := ada.post("/tokens", url.Values{"name": {"ci-main"}, "role": {"deployer"}, "expires": {"90d"}})
	m := secretField.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || !strings.HasPrefix(m[1], "bsc_") {
		t.Fatalf("create token = %d, want the secret shown:\n%s", r.status, excerpt(r.body, "card secret"))
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page with a secret has Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}
	secret := m[1]
	if page := ada.get("/users").body; strings.Contains(page, secret) {
		t.Error("the users page shows the token's secret again")
	}
	p, err := s.auth.Tokens().Authenticate(context.Background(), secret)
	if err != nil || p.Role != store.RoleDeployer {
		t.Fatalf("the new token authenticates as %+v, %v; want a deployer", p, err)
	}
	tokens, _ := s.store.ListTokens(context.Background())
	if r := ada.post("/tokens/"+strconv.FormatInt(tokens[0].ID, 10)+"/revoke", nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke = %d, want 303", r.status)
	}
	if _, err := s.auth.Tokens().Authenticate(context.Background(), secret); err == nil {
		t.Error("a revoked token still authenticates")
	}
	for _, action := range []string{"token.create", "token.revoke"} {
		if e := s.audit(action); len(e) != 1 || e[0].Actor != "ada" || strings.Contains(e[0].Detail, secret) {
			t.Errorf("%s audit = %+v, want one entry by ada without the secret", action, e)
		}
	}
}

// TestUserManagement: an admin adds a user (with a generated password,
// shown once), changes the role, disables and removes them; the last admin
// cannot be demoted.
func TestUserManagement(t *testing.T) {
	s := newStack(t)
	ada := s.login("ada")
	r := ada.post("/users", url.Values{"name": {"zoe"}, "role": {"viewer"}})
	m := secretField.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("add user = %d, want the generated password shown", r.status)
	}
	if _, err := s.auth.Users().Verify(context.Background(), "zoe", m[1]); err != nil {
		t.Errorf("zoe cannot log in with the password shown: %v", err)
	}
	steps := []struct {
		form url.Values
		ok   func(store.User) bool
	}{
		{url.Values{"op": {"role"}, "role": {"deployer"}}, func(u store.User) bool { return u.Role == store.RoleDeployer }},
		{url.Values{"op": {"disable"}}, func(u store.User) bool { return u.DisabledAt != nil }},
		{url.Values{"op": {"enable"}}, func(u store.User) bool { return u.DisabledAt == nil }},
	}
	for _, st := range steps {
		if r := ada.post("/users/zoe/change", st.form); r.status != http.StatusSeeOther {
			t.Fatalf("%v = %d, want 303", st.form, r.status)
		}
		if u, err := s.store.User(context.Background(), "zoe"); err != nil || !st.ok(u) {
			t.Errorf("after %v zoe is %+v, %v", st.form, u, err)
		}
	}
	if r := ada.post("/users/zoe/change", url.Values{"op": {"delete"}}); r.status != http.StatusSeeOther {
		t.Errorf("remove zoe = %d, want 303", r.status)
	}
	r = ada.post("/users/ada/change", url.Values{"op": {"role"}, "role": {"viewer"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "last enabled admin") {
		t.Errorf("demoting the last admin = %d, want 409 saying why", r.status)
	}
	if r := ada.post("/users", url.Values{"name": {"Bad Name"}, "role": {"viewer"}, "password": {password}}); r.status != http.StatusBadRequest {
		t.Errorf("add user with a bad name = %d, want 400", r.status)
	}
	if e := s.audit("user.update"); len(e) != 4 || e[0].Outcome != "failed" {
		t.Errorf("user.update audit = %+v, want 3 ok and the refused demotion", e)
	}
}
