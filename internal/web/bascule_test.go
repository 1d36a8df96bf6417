package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
	"github.com/bascule/bascule/internal/store"
)

const adminToken = "bsc_web-test-admin-token-0123456789abcdef"

// bascule is a whole bascule, started as `bascule serve` starts it, with
// the process driver running the sample app (this test binary).
type bascule struct {
	t      testing.TB
	srv    *server.Server
	base   string // the control plane, where the UI is
	router string // production
	cl     *client.Client
}

func startBascule(t testing.TB) *bascule {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.App, cfg.Listen, cfg.Control = "shop", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Preview.Hosts = []string{"preview.localhost"}
	cfg.Runtime.Process.Command = []string{self}
	cfg.Runtime.Process.Env = map[string]string{appEnv: "1"}
	cfg.HealthCheck.Path, cfg.HealthCheck.Interval, cfg.HealthCheck.StartTimeout = "/healthz", 20*time.Millisecond, 10*time.Second
	cfg.DrainTimeout, cfg.StopTimeout = 2*time.Second, 3*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, server.Options{Config: cfg, AdminToken: adminToken, AdminPassword: password, StopAppsOnClose: true})
	if err != nil {
		cancel()
		t.Fatalf("server.Open = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server.Run = %v", err)
		}
	})
	b := &bascule{t: t, srv: srv, base: "http://" + srv.ControlAddr(), router: "http://" + srv.RouterAddr()}
	b.cl = &client.Client{BaseURL: b.base, Token: adminToken}
	return b
}

// addRelease registers the sample app as version, with notes; extra lines
// go to its release.txt.
func (b *bascule) addRelease(version, notes, extra string) {
	b.t.Helper()
	dir := b.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "release.txt"), []byte(version+"\n"+extra), 0o644); err != nil {
		b.t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, dir); err != nil {
		b.t.Fatal(err)
	}
	q := url.Values{"version": {version}, "filename": {version + ".tar.gz"}, "notes": {notes}}
	req, _ := http.NewRequest("POST", b.base+"/api/v1/releases?"+q.Encode(), &buf)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.t.Fatalf("add release %s = %v, %v", version, resp, err)
	}
	resp.Body.Close()
}

// liveWith deploys version and makes it live, through the API.
func (b *bascule) liveWith(version string) {
	b.t.Helper()
	ctx := context.Background()
	d, err := b.cl.Deploy(ctx, version, "setup")
	if err != nil {
		b.t.Fatal(err)
	}
	if d, err = b.srv.Deploy().Wait(ctx, d.ID); err != nil || d.State != store.StateReady {
		b.t.Fatalf("deploy %s ended %s (%s), %v", version, d.State, d.Error, err)
	}
	if _, err := b.cl.GoLive(ctx, "setup"); err != nil {
		b.t.Fatal(err)
	}
}

// serves returns what production answers.
func (b *bascule) serves() string {
	b.t.Helper()
	resp, err := http.Get(b.router + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// deploymentsOf counts the deployments of version.
func (b *bascule) deploymentsOf(version string) int {
	b.t.Helper()
	list, err := b.cl.Deployments(context.Background(), 100)
	if err != nil {
		b.t.Fatal(err)
	}
	n := 0
	for _, d := range list {
		if d.Version == version {
			n++
		}
	}
	return n
}

// traffic sends production requests until ctx ends, so the overview has
// something to chart. It is bounded by the test's context.
func (b *bascule) traffic(ctx context.Context) {
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			req, _ := http.NewRequestWithContext(ctx, "GET", b.router+"/", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}
}
