package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// env is a fake environment for parse, so tests need not touch the real one.
func env(vars map[string]string) lookupFunc {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestLoadFull(t *testing.T) {
	t.Setenv("BASCULE_PREVIEW_TOKEN", "s3cret")
	t.Setenv("DATABASE_URL", "postgres://shop@127.0.0.1/shop")
	t.Setenv("BASCULE_WEBHOOK_SECRET", "0123456789abcdef")
	got, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatalf("Load(testdata/full.yaml): %v", err)
	}
	want := Config{
		App:     "shop",
		Listen:  "127.0.0.1:8080",
		Control: "127.0.0.1:8081",
		DataDir: "/var/lib/bascule",
		Preview: Preview{
			Hosts:    []string{"preview.shop.example"},
			Header:   "X-Bascule-Preview",
			Cookie:   "bascule_preview",
			Token:    "s3cret",
			TokenEnv: "BASCULE_PREVIEW_TOKEN",
		},
		Runtime: Runtime{
			Driver: DriverProcess,
			Process: Process{
				Command:   []string{"./app", "--serve"},
				Env:       map[string]string{"LOG_LEVEL": "info"},
				PortRange: PortRange{Min: 20000, Max: 20999},
				Instances: 2,
			},
			Static: Static{Blue: []string{"127.0.0.1:19001"}, Green: []string{"127.0.0.1:19002", "127.0.0.1:19003"}},
			Kubernetes: Kubernetes{Namespace: "shop", Replicas: 3, IdleScaleDown: 30 * time.Minute,
				Container: Container{Port: 8080, Env: map[string]string{"LOG_LEVEL": "info"},
					Requests: map[string]string{"cpu": "250m", "memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"}}},
		},
		HealthCheck: HealthCheck{
			Path:             "/healthz",
			Interval:         500 * time.Millisecond,
			Timeout:          2 * time.Second,
			HealthyThreshold: 2,
			StartTimeout:     60 * time.Second,
		},
		SmokeTest:             SmokeTest{Command: []string{"./smoke.sh"}, Timeout: 60 * time.Second},
		DrainTimeout:          30 * time.Second,
		Concurrency:           Concurrency{Limit: 64, QueueTimeout: 30 * time.Second},
		StopTimeout:           10 * time.Second,
		Guard:                 Guard{Window: 5 * time.Minute, MaxErrorRate: 0.02, MinRequests: 100, MaxP99Ratio: 3},
		Progressive:           Progressive{StickyCookie: "user_id", StickyHeader: "X-User-Id"},
		ControlTrustedOrigins: []string{"https://deploy.shop.example"},
		ControlTrustedProxies: []string{"10.0.0.0/8"},
		ControlAdvertiseURL:   "http://10.0.0.5:8081",
		ControlLeaseTTL:       15 * time.Second,
		Database:              Database{Driver: DriverPostgres, URL: "postgres://shop@127.0.0.1/shop", URLEnv: "DATABASE_URL"},
		Migrate: Migrate{LockTimeout: 2 * time.Second, StatementTimeout: 30 * time.Minute, ExpandCommand: []string{}, ContractCommand: []string{},
			CompatCommand: []string{"./bin/app", "selftest"}, CompatTimeout: 2 * time.Minute},
		Store:     Store{Driver: DriverSQLite},
		Artifacts: Artifacts{Keep: 20, Grace: 2 * time.Hour, Interval: 30 * time.Minute},
		OFREP:     OFREP{RateLimit: 5000, RateBurst: 10000, CORSOrigins: []string{"https://shop.example"}},
		Path:      "testdata/full.yaml",
	}
	want.Notify = []Webhook{{URL: "https://hooks.example.com/bascule", Secret: "0123456789abcdef", SecretEnv: "BASCULE_WEBHOOK_SECRET",
		Events: []string{"deployment", "guard", "flag"}, Format: FormatJSON}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(testdata/full.yaml) mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate() of a loaded config = %v, want nil", err)
	}
}

// TestExampleLoads: the example the README points users to is a valid
// file, so it cannot drift from the schema unnoticed.
func TestExampleLoads(t *testing.T) {
	t.Setenv("BASCULE_PREVIEW_TOKEN", "s3cret")
	t.Setenv("DATABASE_URL", "postgres://shop@127.0.0.1/shop")
	if _, err := Load("../../examples/bascule.yaml"); err != nil {
		t.Errorf("Load(examples/bascule.yaml) = %v", err)
	}
}

func TestDefault(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	want := Config{
		App:     "app",
		Listen:  "127.0.0.1:8080",
		Control: "127.0.0.1:8081",
		DataDir: "/state/bascule",
		Preview: Preview{Header: "X-Bascule-Preview", Cookie: "bascule_preview"},
		Runtime: Runtime{Driver: DriverProcess, Process: Process{PortRange: PortRange{Min: 20000, Max: 20999}, Instances: 1},
			Kubernetes: Kubernetes{Replicas: 1, IdleScaleDown: 10 * time.Minute, Container: Container{Port: 8080}}},
		HealthCheck: HealthCheck{
			Path:             "/",
			Interval:         200 * time.Millisecond,
			Timeout:          2 * time.Second,
			HealthyThreshold: 1,
			StartTimeout:     60 * time.Second,
		},
		SmokeTest:       SmokeTest{Timeout: 60 * time.Second},
		DrainTimeout:    30 * time.Second,
		Concurrency:     Concurrency{QueueTimeout: 30 * time.Second},
		Guard:           Guard{MaxErrorRate: 0.02, MinRequests: 20},
		StopTimeout:     10 * time.Second,
		Migrate:         Migrate{LockTimeout: 500 * time.Millisecond, StatementTimeout: 10 * time.Minute, CompatTimeout: 5 * time.Minute},
		Store:           Store{Driver: DriverSQLite},
		Artifacts:       Artifacts{Keep: 10, Grace: time.Hour, Interval: time.Hour},
		ControlLeaseTTL: 10 * time.Second,
	}
	if diff := cmp.Diff(want, Default()); diff != "" {
		t.Errorf("Default() mismatch (-want +got):\n%s", diff)
	}

	// The smallest useful file: only what has no default.
	got, err := parse("min.yaml", []byte("runtime:\n  process:\n    command: [./app]\n"), env(nil))
	if err != nil {
		t.Fatalf("parse(minimal file): %v", err)
	}
	want.Runtime.Process.Command = []string{"./app"}
	want.Path = "min.yaml"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("minimal file did not get the defaults (-want +got):\n%s", diff)
	}
}

func TestDefaultDataDir(t *testing.T) {
	for _, tc := range []struct {
		xdg, home, want string
	}{
		{xdg: "/xdg", home: "/home/u", want: "/xdg/bascule"},
		{xdg: "", home: "/home/u", want: "/home/u/.local/state/bascule"},
		{xdg: "relative", home: "/home/u", want: "/home/u/.local/state/bascule"}, // XDG spec: ignore relative
	} {
		t.Setenv("XDG_STATE_HOME", tc.xdg)
		t.Setenv("HOME", tc.home)
		if got := Default().DataDir; got != tc.want {
			t.Errorf("XDG_STATE_HOME=%q HOME=%q: DataDir = %q, want %q", tc.xdg, tc.home, got, tc.want)
		}
	}
}

func TestDataDirTilde(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	c, err := parse("b.yaml", []byte("data_dir: ~/bascule\nruntime: {process: {command: [x]}}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/home/u/bascule" {
		t.Errorf("data_dir ~/bascule = %q, want /home/u/bascule", c.DataDir)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing file) = %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestLoadReportsFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bascule.yaml")
	if err := os.WriteFile(path, []byte("app: shop\nlisten: nope\nruntime: {process: {command: [x]}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load(bad file) = %v (%T), want Errors", err, err)
	}
	want := path + `:2: listen: want host:port such as "127.0.0.1:8080", got "nope"`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Load(bad file) = %q, want it to contain %q", err, want)
	}
	var one *Error
	if !errors.As(err, &one) || one.File != path || one.Line != 2 {
		t.Errorf("errors.As(*Error) = %+v, want File %s Line 2", one, path)
	}
}

func TestSecretsFromEnv(t *testing.T) {
	const file = "preview:\n  token_env: TOK\nstore:\n  driver: postgres\n  url_env: STORE_URL\nruntime: {process: {command: [x]}}\n"
	c, err := parse("b.yaml", []byte(file), env(map[string]string{"TOK": "t0k", "STORE_URL": "postgres://127.0.0.1/b"}))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if c.Preview.Token != "t0k" || c.Store.URL != "postgres://127.0.0.1/b" {
		t.Errorf("token = %q, store url = %q; want them read from TOK and STORE_URL", c.Preview.Token, c.Store.URL)
	}

	_, err = parse("b.yaml", []byte(file), env(map[string]string{"TOK": ""}))
	want := "b.yaml:2: preview.token_env: environment variable TOK is empty\n" +
		"b.yaml:5: store.url_env: environment variable STORE_URL is not set"
	if err == nil || err.Error() != want {
		t.Errorf("parse with TOK empty and STORE_URL unset:\n got %v\nwant %s", err, want)
	}
}

func TestValidateAfterOverride(t *testing.T) {
	c, err := parse("bascule.yaml", []byte("runtime: {process: {command: [x]}}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.Listen = "127.0.0.1:8081" // as a --listen flag might
	want := `bascule.yaml: control: 127.0.0.1:8081 is also the listen address; the router and the control plane need different ports`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() after --listen = control:\n got %v\nwant %s", err, want)
	}
}

func TestParseEmptyValuesKeepDefaults(t *testing.T) {
	got, err := parse("b.yaml", []byte("app:\npreview:\n  header:\nhealth_check:\nruntime: {process: {command: [x]}}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Path = "b.yaml"
	want.Runtime.Process.Command = []string{"x"}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("keys without values changed the defaults (-want +got):\n%s", diff)
	}
}

// Instances sharing one file (a Kubernetes ConfigMap) each advertise their
// own address, from their environment; the URL read is checked as a
// written one is.
func TestControlAdvertiseURLFromEnv(t *testing.T) {
	const file = "control: 0.0.0.0:8081\ncontrol_advertise_url_env: ADVERTISE\nstore:\n  driver: postgres\n  url: postgres://127.0.0.1/b\nruntime: {process: {command: [x]}}\n"
	c, err := parse("b.yaml", []byte(file), env(map[string]string{"ADVERTISE": "http://10.0.0.5:8081"}))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if c.ControlAdvertiseURL != "http://10.0.0.5:8081" {
		t.Errorf("control_advertise_url = %q, want it read from ADVERTISE", c.ControlAdvertiseURL)
	}
	_, err = parse("b.yaml", []byte(file), env(map[string]string{"ADVERTISE": "10.0.0.5"}))
	if err == nil || !strings.Contains(err.Error(), `control_advertise_url: "10.0.0.5" is not a URL`) {
		t.Errorf("parse with ADVERTISE not a URL = %v, want it refused as a written one", err)
	}
}
