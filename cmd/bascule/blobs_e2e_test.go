package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
)

// TestReleaseRunsAfterItsInstanceDied: two `bascule serve` processes share
// one PostgreSQL store. CI registers a release through the follower, so
// the leader takes the upload; the leader is killed with SIGKILL and its
// data directory deleted, as when its host is lost. The follower takes
// over, deploys the release from the bytes in the store, and serves it.
func TestReleaseRunsAfterItsInstanceDied(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two bascule processes and PostgreSQL")
	}
	pgURL := pgtest.Start(t).NewDatabase(t)
	const ttl = 2 * time.Second
	extra := fmt.Sprintf("store:\n  driver: postgres\n  url: %q\ncontrol_lease_ttl: %s\n", pgURL, ttl)
	a := newInstance(t, extra)
	a.start()
	b := newInstance(t, extra)
	b.start()
	if v, err := a.leader(t); err != nil || !v.Leading {
		t.Fatalf("first instance: %+v, %v; want it leading", v, err)
	}

	b.addRelease("v1", "")
	a.kill()
	if err := os.RemoveAll(filepath.Join(a.dir, "data")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*ttl, "the follower to take over", func() bool {
		v, err := b.leader(t)
		return err == nil && v.Leading
	})

	if d := b.deploy("v1"); d.State != store.StateReady {
		t.Fatalf("deployment of v1 on the new leader = %s %q; want ready", d.State, d.Error)
	}
	if _, err := b.cl.GoLive(context.Background(), "test"); err != nil {
		t.Fatalf("GoLive = %v", err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	if rel, code := get(t, c, "http://"+b.listen+"/"); rel != "v1" || code != http.StatusOK {
		t.Errorf("production through the new leader's router = %d from %q, want 200 from v1", code, rel)
	}
}
