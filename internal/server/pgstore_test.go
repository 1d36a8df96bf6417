package server_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
)

var pg pgtest.Shared

func TestMain(m *testing.M) {
	if os.Getenv(kubeAppEnv) == "1" {
		os.Exit(runKubeApp(os.Args[2:]))
	}
	code := pg.Run(m)
	kubetest.ReportSkips()
	netnstest.Report()
	os.Exit(code)
}

// TestPostgresStore: with store.driver postgres, two bascule instances share
// one store: what one deploys, the other sees, and the second cannot start
// a deployment while the first one's holds the lock.
func TestPostgresStore(t *testing.T) {
	url := pg.NewDatabase(t)
	usePG := func(c *config.Config) { c.Store = config.Store{Driver: config.DriverPostgres, URL: url} }
	a := startServerWith(t, usePG)
	ctx := context.Background()
	if _, _, err := a.admin.AddRelease(ctx, "v1", "app", "", strings.NewReader("binary v1")); err != nil {
		t.Fatal(err)
	}
	d, err := a.admin.Deploy(ctx, "v1", "first")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.admin.Follow(ctx, d.ID, func(u store.Deployment) { d = u }); err != nil || d.State != store.StateReady {
		t.Fatalf("deploy on the PostgreSQL store = %s (%s), %v", d.State, d.Error, err)
	}
	b := startServerWith(t, usePG)
	list, err := b.admin.Deployments(ctx, 10)
	if err != nil || len(list) != 1 || list[0].Version != "v1" || list[0].State != store.StateReady {
		t.Fatalf("second instance's history = %+v, %v; want the first's deployment", list, err)
	}
	if _, err := os.Stat(b.dir + "/bascule.db"); err == nil {
		t.Error("a SQLite file was created although the store is PostgreSQL")
	}
	// A flag changed through one instance is served by the other too.
	a.apply(t, "flags:\n  - key: shared\n    enabled: true\n    default_variant: \"on\"\n")
	deadline := time.Now().Add(10 * time.Second)
	for b.srv.Flags().Snapshot().Flags["shared"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("the second instance never served the flag written through the first")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
