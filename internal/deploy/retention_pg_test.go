package deploy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/static"
	"github.com/bascule/bascule/internal/store"
)

// addAgedRelease registers version, created age ago, its bytes in arts
// and in the shared store.
func addAgedRelease(t *testing.T, db store.Releases, arts *artifact.Store, version string, age time.Duration) store.Release {
	t.Helper()
	rel, err := registerRelease(t, db, arts, store.Release{Version: version, CreatedAt: time.Now().UTC().Add(-age)}, version+"\n")
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// TestPruneSparesTheReleaseBeingDeployed (PostgreSQL): an old release
// whose deployment is still running (its smoke test) keeps its artifact,
// in the store and on the disk, while an older one beside it is
// collected from both; once another instance leads, the deposed leader's
// prune is refused by the store's fence and collects nothing.
func TestPruneSparesTheReleaseBeingDeployed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPG(t)
	arts := &artifact.Store{Dir: t.TempDir(), Shared: db}
	blue, green := newApp(t, router.Blue), newApp(t, router.Green)
	gate := t.TempDir()
	started, goAhead := filepath.Join(gate, "started"), filepath.Join(gate, "go")
	smoke := []string{"sh", "-c", `touch "$0"; while [ ! -e "$1" ]; do sleep 0.02; done; echo smoke passed`, started, goAhead}
	t.Cleanup(func() { os.WriteFile(goAhead, nil, 0o644) })
	dir := t.TempDir()
	a := deploy.New(deploy.Options{App: "shop", Store: db, Artifacts: arts, Router: router.New(router.Options{}),
		Driver:       static.New(map[string]string{"blue": blue.addr(), "green": green.addr()}),
		Health:       runtime.HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: time.Second},
		SmokeCommand: smoke, SmokeTimeout: 30 * time.Second,
		RoutingPath: filepath.Join(dir, "routing.json"), ProgressPath: filepath.Join(dir, "golive.json"), Standby: true,
		Retention: deploy.Retention{Keep: 1}, Blobs: db})
	t.Cleanup(a.Close)
	v1 := addAgedRelease(t, db, arts, "v1", 3*time.Hour)
	v2 := addAgedRelease(t, db, arts, "v2", 2*time.Hour)
	addAgedRelease(t, db, arts, "v3", time.Hour)

	actx := lease(t, db, "a", time.Second)
	if err := a.Lead(actx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Deploy(ctx, "v1", "test", "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the smoke test of v1 to start", func() bool { _, err := os.Stat(started); return err == nil })
	f, _ := store.FenceFrom(actx)
	if _, err := db.RenewLease(ctx, store.LeaseControl, "a", f.Token, time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := a.Prune(ctx, "admin", false)
	if err != nil {
		t.Fatalf("Prune = %v", err)
	}
	if len(c.Releases) != 1 || c.Releases[0].Version != "v2" {
		t.Fatalf("Prune collected %+v, want v2 only (v1 is being deployed, v3 is the newest)", c.Releases)
	}
	for _, tc := range []struct {
		rel  store.Release
		kept bool
	}{{v1, true}, {v2, false}} {
		inStore, err := db.HasBlob(ctx, tc.rel.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if inStore != tc.kept || arts.Has(tc.rel.Digest) != tc.kept {
			t.Errorf("%s: in the store %v, on disk %v; want %v", tc.rel.Version, inStore, arts.Has(tc.rel.Digest), tc.kept)
		}
	}

	// b takes over once a's lease, which nobody renews, has expired.
	addAgedRelease(t, db, arts, "v0", 4*time.Hour)
	lease(t, db, "b", time.Minute)
	if _, err := a.Prune(ctx, "admin", false); !errors.Is(err, store.ErrFenced) {
		t.Errorf("the deposed leader's Prune = %v, want it refused as fenced", err)
	}
	list, err := db.ListReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var collected []string
	for _, r := range list {
		if r.Collected() {
			collected = append(collected, r.Version)
		}
	}
	if !slices.Equal(collected, []string{"v2"}) {
		t.Errorf("collected releases = %v, want v2 only: the deposed leader collected nothing", collected)
	}
}
