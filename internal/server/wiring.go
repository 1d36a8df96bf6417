package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bascule/bascule/internal/api"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/process"
	"github.com/bascule/bascule/internal/runtime/static"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
	"github.com/bascule/bascule/internal/store/sqlite"
)

func newDriver(ctx context.Context, cfg config.Config, live func() string, log *slog.Logger) (driver, error) {
	dir := filepath.Join(cfg.DataDir, "slots")
	switch cfg.Runtime.Driver {
	case config.DriverStatic:
		return static.Open(dir, map[string][]string{"blue": cfg.Runtime.Static.Blue, "green": cfg.Runtime.Static.Green})
	case config.DriverKube:
		return newKubeDriver(ctx, cfg, live, log.With("component", "runtime"))
	default:
		d, err := process.New(process.Options{Dir: dir, PortMin: cfg.Runtime.Process.PortRange.Min,
			PortMax: cfg.Runtime.Process.PortRange.Max, StopTimeout: cfg.StopTimeout,
			Instances: cfg.Runtime.Process.Instances, Logger: log.With("component", "runtime")})
		if err != nil {
			return nil, err
		}
		adopted, err := d.Adopt(ctx)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("adopt running apps: %w", err)
		}
		for _, inst := range adopted {
			log.Info("adopted running app", "color", inst.Color, "version", inst.Version, "pid", inst.PID, "addr", inst.Addr)
		}
		return d, nil
	}
}

// previewToken returns the configured preview token, or the one generated
// at the first start and kept in the data directory.
func previewToken(cfg config.Config) (string, error) {
	if cfg.Preview.Token != "" {
		return cfg.Preview.Token, nil
	}
	path := filepath.Join(cfg.DataDir, "preview-token")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read preview token: %w", err)
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate preview token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save preview token: %w", err)
	}
	return tok, nil
}

// hostsOnly strips ports from the preview host names: the router matches
// the Host header without its port.
func hostsOnly(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		out = append(out, h)
	}
	return out
}

// listenControl listens on the control address, over TLS when control_tls
// names a certificate (session cookies are then Secure, as the request
// carries TLS state).
func listenControl(cfg config.Config) (net.Listener, error) {
	var tc *tls.Config
	if cfg.ControlTLS.Enabled() {
		cert, err := tls.LoadX509KeyPair(cfg.ControlTLS.CertFile, cfg.ControlTLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("control_tls: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", cfg.Control)
	if err != nil {
		return nil, fmt.Errorf("control: listen %s: %w", cfg.Control, err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, nil
}

// openStore opens bascule's own store: a SQLite file in the data directory
// by default, or PostgreSQL so that several instances share it.
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	if cfg.Store.Driver == config.DriverPostgres {
		return postgres.Open(ctx, cfg.Store.URL)
	}
	return sqlite.Open(ctx, filepath.Join(cfg.DataDir, "bascule.db"))
}

// appEnv is the environment bascule adds for the apps: runtime.process.env,
// plus DATABASE_URL from database.url unless env sets it, so the release
// talks to the database its migrations ran against.
func appEnv(cfg config.Config) []string {
	vars := cfg.Runtime.Process.Env
	if cfg.Runtime.Driver == config.DriverKube {
		vars = cfg.Runtime.Kubernetes.Container.Env
	}
	env := envList(vars)
	if _, set := vars["DATABASE_URL"]; !set && cfg.Database.URL != "" {
		env = append(env, "DATABASE_URL="+cfg.Database.URL)
	}
	return env
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func healthCheck(cfg config.Config) runtime.HealthCheck {
	hc := cfg.HealthCheck
	return runtime.HealthCheck{Path: hc.Path, Interval: hc.Interval, Timeout: hc.Timeout, HealthyThreshold: hc.HealthyThreshold}
}

// smokeEnv tells the smoke test how to reach the candidate through the
// router, as a member of the team would.
func (s *Server) smokeEnv() []string {
	return []string{
		"BASCULE_PREVIEW_URL=http://" + s.routerLn.Addr().String(),
		"BASCULE_PREVIEW_HEADER=" + s.cfg.Preview.Header,
		"BASCULE_PREVIEW_TOKEN=" + s.PreviewToken,
	}
}

// bootstrapToken creates the first admin token when there is none.
func bootstrapToken(ctx context.Context, st store.Tokens, tokens *auth.Tokens, given string) (string, error) {
	n, err := st.CountTokens(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	secret, err := tokens.Create(ctx, "admin", store.RoleAdmin, given, 0)
	if err != nil {
		return "", fmt.Errorf("create the initial admin token: %w", err)
	}
	return secret, nil
}

// bootstrapAdmin creates the "admin" user when there is no user, with the
// given password or a generated one, which it returns to be shown once.
func bootstrapAdmin(ctx context.Context, users *auth.Users, given string) (string, error) {
	list, err := users.List(ctx)
	if err != nil || len(list) > 0 {
		return "", err
	}
	password := given
	if password == "" {
		if password, err = auth.GeneratePassword(); err != nil {
			return "", err
		}
	}
	if _, err := users.Create(ctx, "admin", store.RoleAdmin, password); err != nil {
		return "", fmt.Errorf("create the initial admin user: %w", err)
	}
	return password, nil
}

// controlMux routes the control plane, behind its cross-origin protection.
func (s *Server) controlMux(apiH *api.Handler, m *metrics, cop *http.CrossOriginProtection) http.Handler {
	webH := s.webUI(m)
	mux := http.NewServeMux()
	mux.Handle("/api/", apiH)
	mux.Handle("GET /api/v1/leader", apiH.Protect("GET /api/v1/leader", store.RoleViewer, s.leaderHandler(apiH.WriteError)))
	s.mountFlags(mux, apiH, m)
	mux.Handle("GET /metrics", s.metricsHandler(apiH, m))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/", webH)
	cop.SetDenyHandler(s.crossOriginDenied(apiH, webH))
	h := cop.Handler(mux)
	if s.elector != nil {
		h = s.forwardChanges(h, apiH.WriteError)
	}
	return h
}
