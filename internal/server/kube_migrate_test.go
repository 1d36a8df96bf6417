package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/kubetest"
	migsqlite "github.com/bascule/bascule/internal/migrate/sqlite"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/sampleapp"
	"github.com/bascule/bascule/internal/store"
)

// kubeAppEnv, in an image's environment (kubetest.Image.Env), makes this
// test binary the image's program: the sample app on $PORT, or with the
// arguments "migrate" the app's migration tool, which creates its table in
// the SQLite database at $DATABASE_URL, or fails when the image's
// $MIGRATE_FAIL says so.
const kubeAppEnv = "BASCULE_SERVER_KUBE_APP"

func runKubeApp(args []string) int {
	if len(args) > 0 && args[0] == "migrate" {
		fmt.Println("migrate tool of", os.Getenv("BASCULE_RELEASE"))
		if msg := os.Getenv("MIGRATE_FAIL"); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
			return 3
		}
		ctx := context.Background()
		db, err := migsqlite.Dialect{}.Open(ctx, os.Getenv("DATABASE_URL"))
		if err == nil {
			_, err = db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)")
			db.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "migrate:", err)
			return 1
		}
		fmt.Println("created table items")
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := sampleapp.Options{Release: os.Getenv("BASCULE_RELEASE"), Color: os.Getenv("BASCULE_COLOR"), Grace: time.Second}
	if err := sampleapp.Serve(ctx, ":"+os.Getenv("PORT"), o, slog.New(slog.NewTextHandler(os.Stdout, nil))); err != nil {
		fmt.Fprintln(os.Stderr, "sample app:", err)
		return 1
	}
	return 0
}

const (
	goodImage = "registry.example.com/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	badImage  = "registry.example.com/shop@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// TestKubernetesMigrationJob: with runtime.driver kubernetes and
// migrate.expand_command, a deployment runs the release's migration tool
// as a Kubernetes Job of its image (the pods run for real: kubetest's
// PodRunner) — rehearsed on the shadow, then on production — and its step
// reports the Job and the tool's output. A release whose tool fails is
// failed at its gates with the Job's verdict and last lines, before
// anything of it runs: no Deployment of it, production untouched.
func TestKubernetesMigrationJob(t *testing.T) {
	netnstest.Require(t)
	c := kubetest.Start(t)
	admin := c.Client(t)
	ctx := t.Context()
	const ns = "shop"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	nw := netnstest.New(t)
	entry := []string{os.Args[0], "-test.run=^$"}
	runner := kubetest.NewPodRunner(t, kubetest.PodRunnerOptions{Network: nw, Images: map[string]kubetest.Image{
		goodImage: {Entrypoint: entry, Env: []string{kubeAppEnv + "=1"}},
		badImage:  {Entrypoint: entry, Env: []string{kubeAppEnv + "=1", "MIGRATE_FAIL=ALTER TABLE items: no such table"}},
	}})
	c.StartKubelet(t, kubetest.KubeletOptions{Namespace: ns, NodeIP: nw.AddAddr(), Run: runner.Run, Logs: runner})
	dbPath := filepath.Join(t.TempDir(), "shop.db")

	s := startServerWith(t, func(cfg *config.Config) {
		cfg.Runtime.Driver = config.DriverKube
		cfg.Runtime.Kubernetes.Namespace = ns
		cfg.Runtime.Kubernetes.Kubeconfig = c.Kubeconfig()
		cfg.HealthCheck.Path = "/healthz"
		cfg.Database = config.Database{Driver: config.DriverSQLite, URL: dbPath}
		cfg.Migrate.ExpandCommand = append(entry, "migrate")
	})
	addImage := func(version, image string) {
		var buf bytes.Buffer
		if err := artifact.PackDirAs(&buf, t.TempDir(), "migrations"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.admin.AddImageRelease(ctx, version, image, "", &buf); err != nil {
			t.Fatalf("add image release %s: %v", version, err)
		}
	}
	addImage("v1", goodImage)
	addImage("v2", badImage)

	d := deployAndWait(t, s, "v1")
	if d.State != store.StateReady {
		t.Fatalf("deployment of v1 is %s, want ready; steps:\n%s", d.State, describeSteps(d))
	}
	migrate := step(d, "migrate")
	for _, want := range []string{"expand_command " + strings.Join(cfgCommand(entry), " ") + " ran as Kubernetes Job shop-migrate-",
		"expand_command: migrate tool of v1", "expand_command: created table items",
		"expand_command on the shadow: created table items"} {
		if !strings.Contains(migrate.Message, want) {
			t.Errorf("migrate step lacks %q:\n%s", want, migrate.Message)
		}
	}
	if !tableExists(t, dbPath, "items") {
		t.Error("the Job's tool did not create table items in production")
	}

	t.Logf("v1's migrate step:\n%s", migrate.Message)
	failed := deployAndWait(t, s, "v2")
	if failed.State != store.StateFailed {
		t.Fatalf("deployment of v2 is %s, want failed; steps:\n%s", failed.State, describeSteps(failed))
	}
	gates := step(failed, "gates")
	for _, want := range []string{"job failed: Kubernetes Job shop-migrate-", "exit 3", "ALTER TABLE items: no such table",
		"kept for diagnosis", "production is untouched"} {
		if !strings.Contains(gates.State+" "+gates.Message, want) {
			t.Errorf("gates step lacks %q:\n%s %s", want, gates.State, gates.Message)
		}
	}
	t.Logf("v2's gates step:\n%s", gates.Message)
	if s := step(failed, "start"); s.Name != "" {
		t.Errorf("v2 reached the start step (%s), want it failed before", s.State)
	}
	for _, color := range []string{"blue", "green"} {
		dep, err := admin.AppsV1().Deployments(ns).Get(ctx, "shop-"+color, metav1.GetOptions{})
		if err == nil && dep.Annotations["bascule.dev/release"] == "v2" {
			t.Errorf("deployment shop-%s runs v2, whose migration failed", color)
		} else if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
}

func cfgCommand(entry []string) []string { return append(append([]string{}, entry...), "migrate") }

// deployAndWait deploys version and waits (up to three minutes) for its
// pipeline to end: ready, live or failed.
func deployAndWait(t *testing.T, s *testServer, version string) store.Deployment {
	t.Helper()
	ctx := context.Background()
	d, err := s.admin.Deploy(ctx, version, "test")
	if err != nil {
		t.Fatalf("deploy %s: %v", version, err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		cur, err := s.admin.Deployment(ctx, d.ID)
		if err == nil && (cur.State == store.StateReady || cur.State == store.StateLive || cur.State == store.StateFailed) {
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment of %s is %s (%v) after three minutes; steps:\n%s", version, cur.State, err, describeSteps(cur))
		}
		time.Sleep(100 * time.Millisecond) // polls the API: a test's view, as the CLI's
	}
}

func step(d store.Deployment, name string) store.Step {
	for _, s := range d.Steps {
		if s.Name == name {
			return s
		}
	}
	return store.Step{}
}

func describeSteps(d store.Deployment) string {
	var b strings.Builder
	for _, s := range d.Steps {
		fmt.Fprintf(&b, "  %s: %s: %s\n", s.Name, s.State, s.Message)
	}
	return b.String()
}

func tableExists(t *testing.T, path, table string) bool {
	t.Helper()
	db, err := migsqlite.Dialect{}.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}
