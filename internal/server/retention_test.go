package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/store/postgres"
)

// smallArchive packs a release holding content.
func smallArchive(t *testing.T, content string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "release.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// unpackedOn tells whether s's data directory holds body's unpacked
// release directory.
func unpackedOn(s *testServer, body []byte) bool {
	_, err := os.Stat(filepath.Join(s.dir, "releases", "unpacked", "v2", strings.ReplaceAll(sha(body), ":", "-")))
	return err == nil
}

// TestFollowerDiskIsSweptOfCollectedArtifacts: with a shared PostgreSQL
// store, the leader collects old releases' artifacts from the store and
// its own disk, and a follower, whose disk held some of them too (say,
// from a term it led), removes them from its disk once the store no
// longer holds them; what is kept stays on both.
func TestFollowerDiskIsSweptOfCollectedArtifacts(t *testing.T) {
	ctx := context.Background()
	dbURL := pg.NewDatabase(t)
	usePG := func(c *config.Config) {
		c.Store = config.Store{Driver: config.DriverPostgres, URL: dbURL}
		c.ControlLeaseTTL = 2 * time.Second
		c.Artifacts = config.Artifacts{Keep: 1, Grace: 0, Interval: 50 * time.Millisecond}
	}
	a := startServerWith(t, usePG)
	b := startServerWith(t, usePG)
	if !leaderOf(t, a).Leading {
		t.Fatal("a does not lead")
	}
	bArts := &artifact.Store{Dir: filepath.Join(b.dir, "releases")}
	archives := map[string][]byte{}
	for _, v := range []string{"v1", "v2"} {
		archives[v] = smallArchive(t, v+"\n")
		if _, _, err := a.admin.AddRelease(ctx, v, v+".tar.gz", sha(archives[v]), bytes.NewReader(archives[v])); err != nil {
			t.Fatalf("AddRelease(%s) = %v", v, err)
		}
		// What a follower's disk holds of it: the bytes and their
		// unpacked directory, as a deployment it ran while leading left them.
		if _, err := bArts.Put(ctx, bytes.NewReader(archives[v]), sha(archives[v])); err != nil {
			t.Fatal(err)
		}
		if _, err := bArts.Unpack(ctx, sha(archives[v]), artifact.FormatTarGz, v+".tar.gz"); err != nil {
			t.Fatal(err)
		}
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v1 := archives["v1"]
	deadline := time.Now().Add(20 * time.Second)
	for {
		rel, err := db.Release(ctx, "v1")
		if err != nil {
			t.Fatal(err)
		}
		inStore, err := db.HasBlob(ctx, sha(v1))
		if err != nil {
			t.Fatal(err)
		}
		if rel.Collected() && !inStore && !onDisk(a, v1) && !onDisk(b, v1) && !unpackedOn(b, v1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("v1 not collected everywhere within 20s: collected %v, in the store %v, on a's disk %v, on b's %v (unpacked %v)",
				rel.Collected(), inStore, onDisk(a, v1), onDisk(b, v1), unpackedOn(b, v1))
		}
		time.Sleep(20 * time.Millisecond)
	}
	v2 := archives["v2"]
	if has, _ := db.HasBlob(ctx, sha(v2)); !has || !onDisk(a, v2) || !onDisk(b, v2) || !unpackedOn(b, v2) {
		t.Errorf("v2 (the newest, kept): in the store %v, on a's disk %v, on b's %v (unpacked %v); want everywhere",
			has, onDisk(a, v2), onDisk(b, v2), unpackedOn(b, v2))
	}
}
