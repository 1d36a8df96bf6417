package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/store"
)

// startFresh runs `bascule serve` as a first start would: without
// BASCULE_ADMIN_TOKEN, so bascule makes up the credentials itself.
func (in *instance) startFresh() {
	in.t.Helper()
	self, _ := os.Executable()
	in.cmd = exec.Command(self, "serve", "-c", in.config)
	in.cmd.Env = append(os.Environ(), "BASCULE_E2E_EXEC=1")
	in.stderr = &syncBuffer{}
	in.cmd.Stdout, in.cmd.Stderr = in.stderr, in.stderr
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.exited = make(chan struct{})
	cmd, exited := in.cmd, in.exited
	go func() { cmd.Wait(); close(exited) }()
	in.t.Cleanup(in.stop)
}

// A first start that fails because the control port is taken must not
// create credentials no one saw: the next start shows them.
func TestFailedFirstStartDoesNotLockOut(t *testing.T) {
	in := newInstance(t, "")
	taken, err := net.Listen("tcp", in.control)
	if err != nil {
		t.Fatal(err)
	}
	in.startFresh()
	select {
	case <-in.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("bascule serve kept running with its control port taken; it said:\n%s", in.stderr)
	}
	if !strings.Contains(in.stderr.String(), "control: "+in.control+" is in use") {
		t.Fatalf("failed start said:\n%s\nwant the port in use", in.stderr)
	}
	taken.Close()

	in.startFresh()
	waitFor(t, 20*time.Second, "the initial credentials on stderr", func() bool {
		return strings.Contains(in.stderr.String(), "initial web UI login")
	})
	out := in.stderr.String()
	token := match(t, `initial admin token[^\n]*\n  (bsc_\S+)`, out)
	password := match(t, `user admin, password (\S+)`, out)
	cl := &client.Client{BaseURL: "http://" + in.control, Token: token}
	if _, err := cl.Users(context.Background()); err != nil {
		t.Errorf("the token shown after the failed first start does not work as admin: %v", err)
	}
	if err := verifyPassword(t, in, "admin", password); err != nil {
		t.Errorf("the password shown after the failed first start does not log in: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(in.dir, "data", "initial-admin-token"))
	if err != nil || strings.TrimSpace(string(b)) != token {
		t.Errorf("initial-admin-token file = %q, %v; want the token shown", b, err)
	}
}

// An operator who lost every credential gets back in from the machine
// that holds the data directory, and the audit log says so.
func TestAdminRecoversLocally(t *testing.T) {
	in := newInstance(t, "")
	in.startFresh()
	waitFor(t, 20*time.Second, "the initial credentials on stderr", func() bool {
		return strings.Contains(in.stderr.String(), "initial web UI login")
	})
	in.stop()
	data := filepath.Join(in.dir, "data")
	os.Remove(filepath.Join(data, "initial-admin-token")) // saved and deleted, then lost

	out, code := runBinary(t, in, "", "admin", "reset-password", "admin", "--data", data)
	if code != 0 || !strings.Contains(out, "password of admin reset") {
		t.Fatalf("admin reset-password = %d %q", code, out)
	}
	password := match(t, `new password \(shown once\): (\S+)`, out)
	out, code = runBinary(t, in, "", "token", "create", "rescue", "--role", "admin", "-c", in.config)
	if code != 0 || !strings.Contains(out, "created with the admin role") {
		t.Fatalf("token create --role admin -c (locally) = %d %q", code, out)
	}
	token := match(t, `\n  (bsc_\S+)`, out)

	in.startFresh()
	cl := &client.Client{BaseURL: "http://" + in.control, Token: token}
	waitFor(t, 20*time.Second, "the API with the rescue token", func() bool {
		_, err := cl.Status(context.Background())
		return err == nil
	})
	if _, err := cl.Users(context.Background()); err != nil {
		t.Errorf("the rescue token is not admin: %v", err)
	}
	if strings.Contains(in.stderr.String(), "initial admin token") {
		t.Errorf("a restart printed initial credentials again:\n%s", in.stderr)
	}
	if err := verifyPassword(t, in, "admin", password); err != nil {
		t.Errorf("the reset password does not log in: %v", err)
	}
	req, _ := http.NewRequest("GET", "http://"+in.control+"/api/v1/audit", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Audit []store.AuditEntry }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("audit: %v", err)
	}
	entries := body.Audit
	seen := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.Actor, "local:") && strings.HasPrefix(e.Source, "local") && e.Outcome == "ok" {
			seen[e.Action+" "+e.Target] = true
		}
	}
	for _, want := range []string{"user.reset-password admin", "token.create rescue"} {
		if !seen[want] {
			t.Errorf("audit log lacks the local %q; it has %+v", want, entries)
		}
	}

	if out, code := runBinary(t, in, "", "admin", "reset-password", "admin", "--data", filepath.Join(in.dir, "typo")); code != 1 || !strings.Contains(out, "does not exist") {
		t.Errorf("reset-password on a missing data dir = %d %q, want exit 1 and why", code, out)
	}
	if _, err := os.Stat(filepath.Join(in.dir, "typo")); err == nil {
		t.Errorf("reset-password on a missing data dir created it")
	}
}

// With BASCULE_ADMIN_TOKEN given, serve does not claim it made one up.
func TestServeWithGivenAdminToken(t *testing.T) {
	in := newInstance(t, "")
	in.start() // with BASCULE_ADMIN_TOKEN
	waitFor(t, 10*time.Second, "the initial login on stderr", func() bool {
		return strings.Contains(in.stderr.String(), "initial web UI login")
	})
	out := in.stderr.String()
	if !strings.Contains(out, "initial admin token: the one in BASCULE_ADMIN_TOKEN") || strings.Contains(out, adminToken) {
		t.Errorf("serve with BASCULE_ADMIN_TOKEN said:\n%s\nwant it to name the variable, not print the token", out)
	}
	if _, err := os.Stat(filepath.Join(in.dir, "data", "initial-admin-token")); err == nil {
		t.Errorf("serve wrote the given token to initial-admin-token")
	}
}
