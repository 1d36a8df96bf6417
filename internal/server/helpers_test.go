package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
)

const adminToken = "bsc_server-test-admin-token-0123456789"

// testServer is a real bascule (router and control plane) on loopback, with
// the static driver in front of a real backend.
type testServer struct {
	srv   *server.Server
	base  string // http://control address
	admin *client.Client
	dir   string
	stop  func(t testing.TB) // stops the server and waits for it; once
}

func startServer(t testing.TB) *testServer { return startServerWith(t, nil) }

// startServerWith starts a server whose config edit may change first.
func startServerWith(t testing.TB, edit func(*config.Config)) *testServer {
	t.Helper()
	return startServerLogging(t, edit, nil)
}

// startServerLogging is startServerWith with the server logging to log.
func startServerLogging(t testing.TB, edit func(*config.Config), log *slog.Logger) *testServer {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(backend.Close)
	addr := strings.TrimPrefix(backend.URL, "http://")
	cfg := config.Default()
	cfg.App, cfg.Listen, cfg.Control = "shop", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Runtime.Driver = config.DriverStatic
	cfg.Runtime.Static = config.Static{Blue: []string{addr}, Green: []string{addr}}
	cfg.DrainTimeout, cfg.StopTimeout = time.Second, time.Second
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, server.Options{Config: cfg, Logger: log, AdminToken: adminToken, AdminPassword: "correct horse battery staple"})
	if err != nil {
		cancel()
		t.Fatalf("server.Open = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.ControlAddr()
	s := &testServer{srv: srv, base: base, dir: cfg.DataDir, admin: &client.Client{BaseURL: base, Token: adminToken}}
	var once sync.Once
	s.stop = func(t testing.TB) {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server.Run = %v", err)
			}
		})
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// token issues an API token with role through the API, as an admin would.
func (s *testServer) token(t testing.TB, role string) string {
	t.Helper()
	_, secret, err := s.admin.CreateToken(context.Background(), "test-"+role, role, "")
	if err != nil {
		t.Fatalf("CreateToken(%s) = %v", role, err)
	}
	return secret
}

// reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a map, failing the test if it is not JSON.
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// errorCode returns the API error's code, or "".
func (r reply) errorCode() string {
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// call sends one request; header holds name, value pairs.
func (s *testServer) call(t testing.TB, method, path, token, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return roundTrip(t, http.DefaultClient, req, header...)
}

// roundTrip sends req through c with the extra header lines (name, value
// pairs) and reads the whole answer, or fails the test.
func roundTrip(t testing.TB, c *http.Client, req *http.Request, header ...string) reply {
	t.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// apply applies a flags file as the admin and fails the test on error.
func (s *testServer) apply(t testing.TB, yaml string) {
	t.Helper()
	if r := s.call(t, "POST", "/api/v1/flags/apply", adminToken, yaml); r.status != http.StatusOK {
		t.Fatalf("apply = %d %s", r.status, r.body)
	}
}

// storyFlags is the story: staff first, then a share of everyone.
const storyFlags = `segments:
  - key: internal-users
    conditions:
      - {attribute: email, op: ends_with, value: "@example.com"}
flags:
  - key: checkout-v2
    owner: payments
    enabled: true
    rules:
      - segment: internal-users
        variant: "on"
      - percentage: 10
  - key: button-color
    type: experiment
    enabled: true
    variants: {control: "green", red: "red"}
    off_variant: control
    rules:
      - rollout: {control: 50%, red: 50%}
  - key: banner
    enabled: true
    variants: {off: "none", on: "Summer sale"}
    default_variant: "on"
`
