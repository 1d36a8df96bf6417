package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// runCLIAs runs the CLI in-process with the given API token.
func runCLIAs(in *instance, token string, args ...string) (string, int) {
	var out bytes.Buffer
	env := map[string]string{"BASCULE_URL": "http://" + in.control, "BASCULE_TOKEN": token}
	code := run(context.Background(), args, &out, &out, func(k string) string { return env[k] })
	return out.String(), code
}

// runBinary runs the CLI as a real process with stdin, the only way to
// give --password-stdin its input.
func runBinary(t *testing.T, in *instance, stdin string, args ...string) (string, int) {
	t.Helper()
	self, _ := os.Executable()
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "BASCULE_E2E_EXEC=1", "BASCULE_URL=http://"+in.control, "BASCULE_TOKEN="+adminToken)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return string(out), 0
}

func match(t *testing.T, re, s string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("output lacks %s:\n%s", re, s)
	}
	return m[1]
}

// verifyPassword checks a password against the running server's own
// database file, as the web UI's login will.
func verifyPassword(t *testing.T, in *instance, user, password string) error {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(in.dir, "data", "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = (&auth.Users{Store: db}).Verify(context.Background(), user, password)
	return err
}

func TestCLIUsers(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	waitFor(t, 5*time.Second, "the initial admin password on stderr", func() bool {
		return strings.Contains(in.stderr.String(), "initial web UI login")
	})
	adminPW := match(t, `user admin, password (\S+)`, in.stderr.String())
	if err := verifyPassword(t, in, "admin", adminPW); err != nil {
		t.Errorf("the printed admin password does not log in: %v", err)
	}

	out, code := runCLI(t, in, "user", "add", "carol", "--role", "deployer")
	if code != 0 || !strings.Contains(out, "user carol added with the deployer role") {
		t.Fatalf("user add = %d %q", code, out)
	}
	carolPW := match(t, `password \(shown once\): (\S+)`, out)
	if err := verifyPassword(t, in, "carol", carolPW); err != nil {
		t.Errorf("carol's generated password does not log in: %v", err)
	}
	if out, code := runBinary(t, in, "dave's long password\n", "user", "add", "dave", "--password-stdin"); code != 0 || strings.Contains(out, "shown once") {
		t.Fatalf("user add --password-stdin = %d %q, want no password shown", code, out)
	}
	if out, code := runBinary(t, in, "carol's new password\n", "user", "passwd", "carol", "--password-stdin"); code != 0 || !strings.Contains(out, "password of carol changed") {
		t.Fatalf("user passwd --password-stdin = %d %q", code, out)
	}
	for user, pw := range map[string]string{"dave": "dave's long password", "carol": "carol's new password"} {
		if err := verifyPassword(t, in, user, pw); err != nil {
			t.Errorf("%s cannot log in with the password given on stdin: %v", user, err)
		}
	}
	out, code = runCLI(t, in, "user", "list")
	for _, want := range []string{"admin  ", "carol  deployer", "dave   viewer", "enabled"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("user list lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	if out, code := runCLI(t, in, "user", "remove", "carol"); code != 0 || !strings.Contains(out, "user carol removed") {
		t.Errorf("user remove carol = %d %q", code, out)
	}
	if out, code := runCLI(t, in, "user", "remove", "admin"); code != 1 || !strings.Contains(out, "last enabled admin") {
		t.Errorf("user remove admin (the only admin) = %d %q, want exit 1 and why", code, out)
	}
	if out, code := runCLI(t, in, "user", "add", "Eve Smith"); code != 1 || !strings.Contains(out, "user name") {
		t.Errorf("user add with a bad name = %d %q, want exit 1 and why", code, out)
	}
}

func TestCLITokens(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	out, code := runCLI(t, in, "token", "create", "grafana", "--role", "viewer", "--expires", "1h")
	if code != 0 || !strings.Contains(out, "created with the viewer role; expires") {
		t.Fatalf("token create = %d %q", code, out)
	}
	id := match(t, `token #(\d+) grafana`, out)
	secret := match(t, `\n  (bsc_\S+)`, out)
	if out, code := runCLIAs(in, secret, "status"); code != 0 {
		t.Errorf("status with the viewer token = %d %q", code, out)
	}
	if out, code := runCLIAs(in, secret, "deploy", "v1"); code != 1 || !strings.Contains(out, "needs the deployer role") {
		t.Errorf("deploy with the viewer token = %d %q, want refused for its role", code, out)
	}
	out, code = runCLI(t, in, "token", "list")
	if code != 0 || !strings.Contains(out, "grafana  viewer") || !strings.Contains(out, "admin") || strings.Contains(out, secret) {
		t.Errorf("token list = %d\n%s\nwant admin and grafana, without secrets", code, out)
	}
	if out, code := runCLI(t, in, "token", "revoke", id); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke %s = %d %q", id, code, out)
	}
	if out, code := runCLIAs(in, secret, "status"); code != 1 || !strings.Contains(out, "API token") {
		t.Errorf("status with the revoked token = %d %q, want exit 1", code, out)
	}
	if out, code := runCLI(t, in, "token", "revoke", id); code != 1 || !strings.Contains(out, "no token with id") {
		t.Errorf("token revoke twice = %d %q, want exit 1", code, out)
	}
	if out, code := runCLIAs(in, secret, "user", "list"); code != 1 {
		t.Errorf("user list with a revoked token = %d %q, want exit 1", code, out)
	}

	// -q prints the secret alone, for $(bascule token create -q …).
	out, code = runCLI(t, in, "token", "create", "edge", "--role", "router", "-q")
	if code != 0 || !regexp.MustCompile(`^bsc_\S+\n$`).MatchString(out) {
		t.Errorf("token create -q = %d %q, want the secret alone on one line", code, out)
	}
}
