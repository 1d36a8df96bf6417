package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

func TestUserEndpoints(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.creds["admin session"] // the web UI's way; the CLI's is covered by the walk
	var created struct {
		User     store.User
		Password string
	}
	r := f.do(&admin, "POST", "/api/v1/users", `{"name":"carol","role":"deployer"}`)
	r.decode(t, &created)
	if r.status != 201 || created.User.Name != "carol" || created.User.Role != "deployer" || len(created.Password) < 20 {
		t.Fatalf("POST /users without a password = %d %s, want 201 with a generated password", r.status, r.body)
	}
	if strings.Contains(string(r.body), "$argon2id") || strings.Contains(string(r.body), "hash") {
		t.Errorf("POST /users answer %s shows the password hash", r.body)
	}
	if _, err := f.auth.Users().Verify(ctx, "carol", created.Password); err != nil {
		t.Errorf("carol cannot log in with the generated password: %v", err)
	}
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/api/v1/users", `{"name":"dan","role":"viewer","password":"dan's password"}`, 201, ""},
		{"POST", "/api/v1/users", `{"name":"carol","role":"viewer"}`, 409, "conflict"},
		{"POST", "/api/v1/users", `{"name":"erin","role":"root"}`, 400, "bad_request"},
		{"POST", "/api/v1/users", `{"name":"Erin Smith","role":"viewer"}`, 400, "bad_request"},
		{"POST", "/api/v1/users", `{"name":"erin","role":"viewer","password":"short"}`, 400, "bad_request"},
		{"PUT", "/api/v1/users/carol", `{}`, 400, "bad_request"},
		{"PUT", "/api/v1/users/carol", `{"password":"short"}`, 400, "bad_request"},
		{"PUT", "/api/v1/users/carol", `{"role":"viewer","password":"carol's new password"}`, 200, ""},
		{"PUT", "/api/v1/users/nobody", `{"role":"viewer"}`, 404, "not_found"},
		{"PUT", "/api/v1/users/admin-user", `{"role":"viewer"}`, 409, "last_admin"},
		{"DELETE", "/api/v1/users/admin-user", ``, 409, "last_admin"},
		{"DELETE", "/api/v1/users/dan", ``, 204, ""},
		{"DELETE", "/api/v1/users/dan", ``, 404, "not_found"},
	}
	for _, tc := range cases {
		if r := f.do(&admin, tc.method, tc.path, tc.body); r.status != tc.status || r.code != tc.code {
			t.Errorf("%s %s %s = %d %s %s, want %d %s", tc.method, tc.path, tc.body, r.status, r.code, r.body, tc.status, tc.code)
		}
	}
	if u, err := f.auth.Users().Verify(ctx, "carol", "carol's new password"); err != nil || u.Role != "viewer" {
		t.Errorf("carol after PUT = %+v, %v; want viewer with the new password", u, err)
	}
	var list struct{ Users []store.User }
	r = f.do(f.admin(), "GET", "/api/v1/users", "")
	r.decode(t, &list)
	var names []string
	for _, u := range list.Users {
		names = append(names, u.Name+":"+u.Role)
	}
	if got := strings.Join(names, " "); got != "admin-user:admin carol:viewer deployer-user:deployer viewer-user:viewer" {
		t.Errorf("GET /users = %s", got)
	}
	assertAudit(t, f, []string{"dan's password", "carol's new password", created.Password, "$argon2id"},
		"admin-user user.add carol ok role deployer",
		"admin-user user.update carol ok role viewer, password changed",
		"admin-user user.remove dan ok",
		"admin-user user.remove admin-user failed "+"the last enabled admin cannot be removed, demoted or disabled")
}

func TestTokenEndpoints(t *testing.T) {
	f := newFixture(t)
	var created struct {
		Token  store.Token
		Secret string
	}
	before := time.Now()
	r := f.do(f.admin(), "POST", "/api/v1/tokens", `{"name":"deploy-bot","role":"deployer","expires_in":"1h"}`)
	r.decode(t, &created)
	if r.status != 201 || !strings.HasPrefix(created.Secret, "bsc_") || created.Token.ExpiresAt == nil ||
		created.Token.ExpiresAt.Before(before.Add(time.Hour-time.Minute)) || created.Token.ExpiresAt.After(time.Now().Add(time.Hour)) {
		t.Fatalf("POST /tokens = %d %s, want 201 with a bsc_ secret expiring in 1h", r.status, r.body)
	}
	bot := &cred{role: "deployer", bearer: created.Secret}
	if r := f.do(bot, "GET", "/api/v1/status", ""); r.status != 200 {
		t.Errorf("GET /status with the new token = %d %s", r.status, r.body)
	}
	if r := f.do(bot, "POST", "/api/v1/users", `{"name":"x","role":"admin"}`); r.status != 403 {
		t.Errorf("POST /users with a deployer token = %d, want 403", r.status)
	}
	r = f.do(f.admin(), "GET", "/api/v1/tokens", "")
	if r.status != 200 || !strings.Contains(string(r.body), `"deploy-bot"`) || strings.Contains(string(r.body), created.Secret) ||
		strings.Contains(string(r.body), "hash") {
		t.Errorf("GET /tokens = %d %s, want deploy-bot listed without its secret or hash", r.status, r.body)
	}
	for _, tc := range []struct {
		body   string
		status int
		expiry string // "none", "90d"
	}{
		{`{"name":"forever","role":"viewer","expires_in":"never"}`, 201, "none"},
		{`{"name":"default","role":"viewer"}`, 201, "90d"},
		{`{"name":"bad","role":"viewer","expires_in":"soon"}`, 400, ""},
		{`{"name":"bad","role":"viewer","expires_in":"-1h"}`, 400, ""},
		{`{"name":"bad","role":"root"}`, 400, ""},
		{`{"name":"","role":"viewer"}`, 400, ""},
	} {
		var got struct{ Token store.Token }
		r := f.do(f.admin(), "POST", "/api/v1/tokens", tc.body)
		if r.status != tc.status {
			t.Errorf("POST /tokens %s = %d %s, want %d", tc.body, r.status, r.body, tc.status)
			continue
		}
		if tc.status != 201 {
			continue
		}
		r.decode(t, &got)
		switch exp := got.Token.ExpiresAt; {
		case tc.expiry == "none" && exp != nil, tc.expiry == "90d" && (exp == nil || time.Until(*exp) < 89*24*time.Hour):
			t.Errorf("POST /tokens %s: expires_at %v, want %s", tc.body, exp, tc.expiry)
		}
	}
	path := fmt.Sprintf("/api/v1/tokens/%d", created.Token.ID)
	if r := f.do(f.admin(), "DELETE", path, ""); r.status != 204 {
		t.Fatalf("DELETE %s = %d %s, want 204", path, r.status, r.body)
	}
	if r := f.do(bot, "GET", "/api/v1/status", ""); r.status != 401 {
		t.Errorf("GET /status with a revoked token = %d, want 401", r.status)
	}
	if r := f.do(f.admin(), "DELETE", path, ""); r.status != 404 {
		t.Errorf("DELETE %s twice = %d, want 404", path, r.status)
	}
	if r := f.do(f.admin(), "DELETE", "/api/v1/tokens/abc", ""); r.status != 400 {
		t.Errorf("DELETE /tokens/abc = %d, want 400", r.status)
	}
	assertAudit(t, f, []string{created.Secret},
		"token:admin-ci token.create deploy-bot ok role deployer, expires",
		fmt.Sprintf("token:admin-ci token.revoke #%d deploy-bot ok", created.Token.ID))
}

// assertAudit checks that each wanted line prefixes some audit entry
// ("actor action target outcome detail") and that no entry holds a secret.
func assertAudit(t *testing.T, f *fixture, secrets []string, want ...string) {
	t.Helper()
	list, err := f.db.ListAudit(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range list {
		line := strings.Join([]string{e.Actor, e.Action, e.Target, e.Outcome, e.Detail}, " ")
		lines = append(lines, line)
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("audit entry %q holds a secret", line)
			}
		}
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, w)
		}
		if !found {
			t.Errorf("no audit entry starts with %q; have:\n%s", w, strings.Join(lines, "\n"))
		}
	}
}
