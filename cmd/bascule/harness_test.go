package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
)

// The test binary doubles as the bascule binary: with BASCULE_E2E_EXEC=1 it
// runs the CLI, exactly as the released binary does. The end-to-end tests
// start `bascule serve` that way, and its apps are the hidden sample-app
// command, so every process involved is real.
func TestMain(m *testing.M) {
	if os.Getenv(kubeAppEnv) == "1" {
		os.Exit(runKubeApp()) // a pod's program in the kubernetes test
	}
	if os.Getenv("BASCULE_E2E_EXEC") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
		stop()
		os.Exit(code)
	}
	code := m.Run()
	pgtest.ReportSkips()
	netnstest.Report()
	kubetest.ReportSkips()
	os.Exit(code)
}

const adminToken = "bsc_e2e-admin-token-0123456789abcdef"
const previewToken = "preview-secret"

// instance is one `bascule serve` process.
type instance struct {
	t       testing.TB
	dir     string
	config  string
	listen  string
	control string
	cmd     *exec.Cmd
	stderr  *syncBuffer
	cl      *client.Client
	exited  chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a loopback address free for bascule to listen on. Its
// port lies below the kernel's ephemeral range (32768 and up here), where
// the many client connections of tests running alongside take their source
// ports: a port picked with :0 can be taken by one of them before bascule
// binds it, or between a kill -9 and the restart that must bind it again.
// It also avoids the process driver's default range (20000-20999) and the
// static driver's example ports (19001, 19002).
func freeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(9000))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	t.Fatal("no free port in 10000-18999")
	return ""
}

// newInstance writes a config for the sample app and picks addresses; extra
// YAML is appended to the config.
func newInstance(t testing.TB, extra string) *instance {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, dir: dir, listen: freeAddr(t), control: freeAddr(t)}
	in.config = filepath.Join(dir, "bascule.yaml")
	yaml := fmt.Sprintf(`app: shop
listen: %s
control: %s
data_dir: %s
preview:
  hosts: [preview.localhost]
  token: %s
runtime:
  driver: process
  process:
    command: [%q, "sample-app"]
    env: {BASCULE_E2E_EXEC: "1"}
health_check:
  path: /healthz
  interval: 20ms
  start_timeout: 4s
drain_timeout: 5s
stop_timeout: 5s
%s`, in.listen, in.control, filepath.Join(dir, "data"), previewToken, self, extra)
	if err := os.WriteFile(in.config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	in.cl = &client.Client{BaseURL: "http://" + in.control, Token: adminToken}
	return in
}

// start runs `bascule serve` and waits until its API answers.
func (in *instance) start() {
	t := in.t
	t.Helper()
	self, _ := os.Executable()
	in.cmd = exec.Command(self, "serve", "-c", in.config)
	in.cmd.Env = append(os.Environ(), "BASCULE_E2E_EXEC=1", "BASCULE_ADMIN_TOKEN="+adminToken)
	in.stderr = &syncBuffer{}
	in.cmd.Stdout, in.cmd.Stderr = in.stderr, in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.exited = make(chan struct{})
	cmd, exited := in.cmd, in.exited
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { in.stop() })
	// Not waitFor: a bascule that exits (a bad config, a port in use) is
	// reported at once, with what it said.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := in.cl.Status(context.Background()); err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("bascule serve exited before its API answered; it said:\n%s", in.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bascule API did not answer within 20s; bascule said:\n%s", in.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends bascule gracefully (SIGTERM): it stops its apps too.
func (in *instance) stop() {
	select {
	case <-in.exited:
		return
	default:
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(30 * time.Second):
		in.cmd.Process.Kill()
		<-in.exited
		in.t.Errorf("bascule did not stop within 30s of SIGTERM")
	}
}

// kill ends bascule with SIGKILL, like a crash: its apps keep running.
func (in *instance) kill() {
	in.cmd.Process.Kill()
	<-in.exited
}

// addRelease registers the sample app as version; extra lines go to
// release.txt (crash=…, unhealthy=true, start_delay=…).
func (in *instance) addRelease(version, extra string) {
	in.t.Helper()
	var buf bytes.Buffer
	if err := demoArtifact(&buf, version, extra); err != nil {
		in.t.Fatal(err)
	}
	if _, _, err := in.cl.AddRelease(context.Background(), version, version+".tar.gz", "", &buf); err != nil {
		in.t.Fatalf("AddRelease(%s) = %v", version, err)
	}
}

// deploy deploys version and waits for the pipeline to end.
func (in *instance) deploy(version string) store.Deployment {
	in.t.Helper()
	ctx := context.Background()
	d, err := in.cl.Deploy(ctx, version, "test")
	if err != nil {
		in.t.Fatalf("Deploy(%s) = %v", version, err)
	}
	if err := in.cl.Follow(ctx, d.ID, func(u store.Deployment) { d = u }); err != nil {
		in.t.Fatalf("Follow(%d) = %v", d.ID, err)
	}
	return d
}

// liveWith deploys v1 and makes it live.
func (in *instance) liveWith(version string) {
	in.t.Helper()
	in.addRelease(version, "")
	if d := in.deploy(version); d.State != store.StateReady {
		in.t.Fatalf("deploy %s ended %s: %s", version, d.State, d.Error)
	}
	if _, err := in.cl.GoLive(context.Background(), "test"); err != nil {
		in.t.Fatalf("GoLive = %v", err)
	}
}

// get sends a GET through the router and returns the X-Release header.
func get(t *testing.T, c *http.Client, url string, header ...string) (string, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Release"), resp.StatusCode
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// A zombie has exited; only its parent has not read its status yet.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// twoInstancesOnPostgres starts PostgreSQL and two `bascule serve` sharing
// it (a lease of ttl; more of bascule.yaml in extra), with the static
// driver in front of a v1 app on blue and a v2 app on green: a leads, b
// follows.
func twoInstancesOnPostgres(t *testing.T, ttl time.Duration, extra string) (a, b *instance, blue, green *timedApp) {
	t.Helper()
	pgURL := pgtest.Start(t).NewDatabase(t)
	blue, green = newTimedApp(t, "v1"), newTimedApp(t, "v2")
	extra = fmt.Sprintf("store:\n  driver: postgres\n  url: %q\ncontrol_lease_ttl: %s\n", pgURL, ttl) + extra
	a = newStaticInstance(t, blue.staticApp, green.staticApp, extra)
	a.start()
	b = newStaticInstance(t, blue.staticApp, green.staticApp, extra)
	b.start()
	if v, err := a.leader(t); err != nil || !v.Leading {
		t.Fatalf("first instance: %+v, %v; want it leading", v, err)
	}
	return a, b, blue, green
}
