package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// demoRun is one `bascule demo` process.
type demoRun struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// startDemoProcess runs `bascule demo --data dir` as a user would, with no
// BASCULE_* variable set, and waits for its banner.
func startDemoProcess(t *testing.T, dir string) *demoRun {
	t.Helper()
	self, _ := os.Executable()
	d := &demoRun{out: &syncBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(self, "demo", "--data", dir, "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BASCULE_") {
			d.cmd.Env = append(d.cmd.Env, kv)
		}
	}
	d.cmd.Env = append(d.cmd.Env, "BASCULE_E2E_EXEC=1")
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(d.stop)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.out.String(), "Ctrl-C stops the demo") {
		select {
		case <-d.exited:
			t.Fatalf("bascule demo exited before its banner; it said:\n%s", d.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no demo banner within 30s; it said:\n%s", d.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d
}

// stop is Ctrl-C.
func (d *demoRun) stop() {
	d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// checkDemoLogin checks that what the banner says to use works: the
// exported token against the API, the web UI password against the
// demo's own database, the production URL.
func checkDemoLogin(t *testing.T, d *demoRun, dir string) (token, password string) {
	t.Helper()
	banner := d.out.String()
	url := match(t, `export BASCULE_URL=(\S+)`, banner)
	token = match(t, `BASCULE_TOKEN=(bsc_\S+)`, banner)
	password = match(t, `login +admin / (\S+)`, banner)
	cl := &client.Client{BaseURL: url, Token: token}
	if _, err := cl.Status(context.Background()); err != nil {
		t.Errorf("the token the demo printed does not work: %v\n%s", err, banner)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := (&auth.Users{Store: db}).Verify(context.Background(), "admin", password); err != nil {
		t.Errorf("the demo's login admin / %s does not log in: %v", password, err)
	}
	prod := match(t, `production +(\S+)`, banner)
	resp, err := http.Get(prod)
	if err != nil {
		t.Fatalf("GET %s: %v", prod, err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Release"); got != "v1" {
		t.Errorf("production serves %q, want v1", got)
	}
	return token, password
}

// A demo stopped with Ctrl-C and started again on its data directory just
// works, and says how to log in.
func TestDemoRestartsOnItsDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	first := startDemoProcess(t, dir)
	token1, password1 := checkDemoLogin(t, first, dir)
	first.stop()

	second := startDemoProcess(t, dir)
	token2, password2 := checkDemoLogin(t, second, dir)
	if token2 != token1 || password2 != password1 {
		t.Errorf("restarted demo changed its credentials (token %v, password %v): what was exported keeps working only if they stay",
			token2 != token1, password2 != password1)
	}
	second.stop()

	// A data dir whose saved credentials are gone: new ones, that work.
	os.Remove(filepath.Join(dir, demoCredentialsFile))
	third := startDemoProcess(t, dir)
	if token3, _ := checkDemoLogin(t, third, dir); token3 == token1 {
		t.Errorf("without its credentials file the demo showed the old token, which it cannot know")
	}
}
