package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// bigArchive packs a release whose archive spans more than two of the
// store's chunks (random bytes, which gzip cannot shrink).
func bigArchive(t *testing.T) []byte {
	t.Helper()
	src := t.TempDir()
	noise := make([]byte, 2*store.BlobChunk+4096)
	r := rand.New(rand.NewPCG(16, 16))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(filepath.Join(src, "noise.bin"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\necho v1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, src); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// deployOn deploys version through s and waits for it to be ready.
func deployOn(t *testing.T, s *testServer, version string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := s.admin.Deploy(ctx, version, "from the shared store")
	if err != nil {
		t.Fatalf("Deploy(%s) = %v", version, err)
	}
	if err := s.admin.Follow(ctx, d.ID, func(u store.Deployment) { d = u }); err != nil || d.State != store.StateReady {
		t.Fatalf("deployment of %s = %s %q, %v; want ready", version, d.State, d.Error, err)
	}
}

// waitLeading waits until s leads the control plane.
func waitLeading(t *testing.T, s *testServer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !leaderOf(t, s).Leading {
		if time.Now().After(deadline) {
			t.Fatal("the instance did not take over within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// onDisk tells whether s's data directory holds exactly body as an
// artifact.
func onDisk(s *testServer, body []byte) bool {
	got, err := os.ReadFile(filepath.Join(s.dir, "releases", "blobs", strings.ReplaceAll(sha(body), ":", "-")))
	return err == nil && bytes.Equal(got, body)
}

// TestReleaseDeploysAfterItsInstanceIsGone: a release uploaded through
// instance A (the leader) is deployed by instance B once A has stopped and
// its data directory is gone: B fetches the bytes from the shared
// PostgreSQL store, the same bytes.
func TestReleaseDeploysAfterItsInstanceIsGone(t *testing.T) {
	dbURL := pg.NewDatabase(t)
	usePG := func(c *config.Config) {
		c.Store = config.Store{Driver: config.DriverPostgres, URL: dbURL}
		c.ControlLeaseTTL = 2 * time.Second
	}
	a := startServerWith(t, usePG)
	b := startServerWith(t, usePG)
	if !leaderOf(t, a).Leading {
		t.Fatal("a does not lead")
	}
	archive := bigArchive(t)
	if _, _, err := b.admin.AddRelease(context.Background(), "v1", "app.tar.gz", sha(archive), bytes.NewReader(archive)); err != nil {
		t.Fatalf("AddRelease through the follower = %v", err)
	}
	if !onDisk(a, archive) || onDisk(b, archive) {
		t.Fatalf("artifact on disk: a %v, b %v; want a only (the leader took it)", onDisk(a, archive), onDisk(b, archive))
	}
	a.stop(t)
	if err := os.RemoveAll(a.dir); err != nil {
		t.Fatal(err)
	}
	waitLeading(t, b)
	deployOn(t, b, "v1")
	if !onDisk(b, archive) {
		t.Error("after the deployment b's data directory does not hold the artifact as uploaded")
	}
}

// TestArtifactsOnlyOnDiskAreSharedAtStart: releases registered before
// artifacts were shared have their bytes on one instance's disk only. When
// that instance starts, it copies them to the store, and another instance
// deploys them once it is gone.
func TestArtifactsOnlyOnDiskAreSharedAtStart(t *testing.T) {
	ctx := context.Background()
	dbURL := pg.NewDatabase(t)
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// What an older bascule left: the artifact in its data directory, the
	// release in the store, nothing in the store's blobs.
	dataDir := filepath.Join(t.TempDir(), "data")
	archive := bigArchive(t)
	blob, err := (&artifact.Store{Dir: filepath.Join(dataDir, "releases")}).PutRelease(ctx, bytes.NewReader(archive), "", artifact.FormatTarGz)
	if err != nil {
		t.Fatal(err)
	}
	rel := store.Release{Version: "v0", Digest: blob.Digest, Size: blob.Size, Format: artifact.FormatTarGz,
		Filename: "app.tar.gz", CreatedBy: "ci", CreatedAt: time.Now().UTC()}
	if err := db.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	usePG := func(c *config.Config) {
		c.Store = config.Store{Driver: config.DriverPostgres, URL: dbURL}
		c.ControlLeaseTTL = 2 * time.Second
	}
	a := startServerWith(t, func(c *config.Config) { usePG(c); c.DataDir = dataDir })
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := db.HasBlob(ctx, blob.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the artifact only a's disk held was not in the store 30s after a started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := startServerWith(t, usePG)
	a.stop(t)
	if err := os.RemoveAll(a.dir); err != nil {
		t.Fatal(err)
	}
	waitLeading(t, b)
	deployOn(t, b, "v0")
}

// TestSQLiteKeepsArtifactsOnDisk: alone on SQLite, the data directory
// holds the artifacts and the store does not copy them (ADR 0016).
func TestSQLiteKeepsArtifactsOnDisk(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	body := []byte("#!/bin/sh\necho sqlite\n")
	if _, _, err := s.admin.AddRelease(ctx, "v1", "app", "", bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if !onDisk(s, body) {
		t.Error("the artifact is not in the data directory")
	}
	db, err := sqlite.Open(ctx, filepath.Join(s.dir, "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := db.HasBlob(ctx, sha(body)); err != nil || ok {
		t.Errorf("HasBlob in the SQLite store = %v, %v; want false: the data directory holds it", ok, err)
	}
}
