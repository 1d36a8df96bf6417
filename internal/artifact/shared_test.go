package artifact_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
	"github.com/bascule/bascule/internal/store/sqlite"
	"github.com/jackc/pgx/v5"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// sharedStore is a real store that instances share, and a way to change
// its rows behind its back, as a broken disk or a person would.
type sharedStore struct {
	blobs store.Blobs
	// setChunk replaces the bytes of one chunk of a blob.
	setChunk func(t *testing.T, digest string, idx int, data []byte)
	close    func()
}

// backends returns the stores to run a test on: SQLite and PostgreSQL.
func backends() map[string]func(t *testing.T) sharedStore {
	return map[string]func(t *testing.T) sharedStore{
		"sqlite": func(t *testing.T) sharedStore {
			path := filepath.Join(t.TempDir(), "bascule.db")
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return sharedStore{blobs: db, close: func() { db.Close() },
				setChunk: func(t *testing.T, digest string, idx int, data []byte) {
					raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
					if err != nil {
						t.Fatal(err)
					}
					defer raw.Close()
					if _, err := raw.Exec(`UPDATE blob_chunks SET data = ? WHERE digest = ? AND idx = ?`, data, digest, idx); err != nil {
						t.Fatal(err)
					}
				}}
		},
		"postgres": func(t *testing.T) sharedStore {
			url := pg.NewDatabase(t)
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return sharedStore{blobs: db, close: func() { db.Close() },
				setChunk: func(t *testing.T, digest string, idx int, data []byte) {
					conn, err := pgx.Connect(context.Background(), url)
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close(context.Background())
					if _, err := conn.Exec(context.Background(), `UPDATE blob_chunks SET data = $1 WHERE digest = $2 AND idx = $3`, data, digest, idx); err != nil {
						t.Fatal(err)
					}
				}}
		},
	}
}

func forEachBackend(t *testing.T, test func(t *testing.T, sh sharedStore)) {
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) { test(t, open(t)) })
	}
}

// bigRelease packs a release whose archive spans three chunks: a file of
// random bytes, which gzip cannot shrink, beside a script.
func bigRelease(t *testing.T) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(16, 16))
	noise := make([]byte, 2*store.BlobChunk+store.BlobChunk/2)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	src := writeTree(t, map[string]string{"run.sh": "#!/bin/sh\necho v2\n", "data/noise.bin": string(noise)})
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, src); err != nil {
		t.Fatal(err)
	}
	if buf.Len() <= 2*store.BlobChunk {
		t.Fatalf("archive of %d bytes, want more than two chunks", buf.Len())
	}
	return buf.Bytes()
}

// TestReleaseDeploysFromAnotherInstance: a release taken by instance A is
// unpacked by instance B once A's data directory is gone, byte for byte,
// and B keeps the artifact on its own disk.
func TestReleaseDeploysFromAnotherInstance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sh sharedStore) {
		ctx := context.Background()
		archive := bigRelease(t)
		a := &artifact.Store{Dir: t.TempDir(), Shared: sh.blobs}
		blob, err := a.PutRelease(ctx, bytes.NewReader(archive), "", artifact.FormatTarGz)
		if err != nil {
			t.Fatalf("PutRelease on A = %v", err)
		}
		if err := os.RemoveAll(a.Dir); err != nil {
			t.Fatal(err)
		}
		b := &artifact.Store{Dir: t.TempDir(), Shared: sh.blobs}
		dir, err := b.Unpack(ctx, blob.Digest, artifact.FormatTarGz, "app.tar.gz")
		if err != nil {
			t.Fatalf("Unpack on B with A gone = %v", err)
		}
		if got, err := os.ReadFile(filepath.Join(dir, "run.sh")); err != nil || string(got) != "#!/bin/sh\necho v2\n" {
			t.Errorf("run.sh unpacked on B = %q, %v", got, err)
		}
		if st, err := os.Stat(filepath.Join(dir, "data/noise.bin")); err != nil || st.Size() != int64(2*store.BlobChunk+store.BlobChunk/2) {
			t.Errorf("data/noise.bin unpacked on B: %v, %v", st, err)
		}
		if err := b.Verify(blob.Digest); err != nil {
			t.Errorf("B's copy of the artifact: Verify = %v", err)
		}
		f, err := b.Open(blob.Digest)
		if err != nil {
			t.Fatalf("Open on B after Unpack = %v", err)
		}
		defer f.Close()
		var got bytes.Buffer
		got.ReadFrom(f)
		if !bytes.Equal(got.Bytes(), archive) {
			t.Error("B's copy of the artifact differs from the bytes uploaded to A")
		}
	})
}

// TestCorruptSharedArtifactIsRefused: a chunk changed in the store, or
// missing, is refused with an error that says so; nothing is installed on
// the instance that fetched it, and the next try fails the same way.
func TestCorruptSharedArtifactIsRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sh sharedStore) {
		ctx := context.Background()
		archive := bigRelease(t)
		a := &artifact.Store{Dir: t.TempDir(), Shared: sh.blobs}
		blob, err := a.PutRelease(ctx, bytes.NewReader(archive), "", artifact.FormatTarGz)
		if err != nil {
			t.Fatal(err)
		}
		flipped := bytes.Clone(archive[store.BlobChunk : 2*store.BlobChunk])
		flipped[12345] ^= 0x40
		sh.setChunk(t, blob.Digest, 1, flipped)
		b := &artifact.Store{Dir: t.TempDir(), Shared: sh.blobs}
		for try := range 2 {
			_, err := b.Unpack(ctx, blob.Digest, artifact.FormatTarGz, "app.tar.gz")
			if !errors.Is(err, artifact.ErrDigestMismatch) || !strings.Contains(err.Error(), "shared store") || !strings.Contains(err.Error(), blob.Digest) {
				t.Errorf("Unpack %d of a corrupted shared artifact = %v, want ErrDigestMismatch naming the digest and the shared store", try, err)
			}
			if left := files(b.Dir); len(left) != 0 {
				t.Errorf("after a refused fetch, B's directory holds %v, want nothing", left)
			}
		}
		// A chunk cut short: the store's reader notices before any hash.
		sh.setChunk(t, blob.Digest, 1, archive[store.BlobChunk:2*store.BlobChunk-1])
		_, err = b.Unpack(ctx, blob.Digest, artifact.FormatTarGz, "app.tar.gz")
		var be *store.BlobError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), "chunk 1 has") {
			t.Errorf("Unpack of an artifact with a chunk cut short = %v, want a *store.BlobError naming chunk 1", err)
		}
		if left := files(b.Dir); len(left) != 0 {
			t.Errorf("after a refused fetch, B's directory holds %v, want nothing", left)
		}
		// A's own copy is untouched by the store's damage.
		if _, err := a.Unpack(ctx, blob.Digest, artifact.FormatTarGz, "app.tar.gz"); err != nil {
			t.Errorf("Unpack on A, which has the bytes = %v", err)
		}
	})
}

// files lists the files under dir, temporary ones included.
func files(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// TestRefusedArtifactIsNotShared: what Put or PutRelease refuse never
// reaches the shared store.
func TestRefusedArtifactIsNotShared(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sh sharedStore) {
		ctx := context.Background()
		s := &artifact.Store{Dir: t.TempDir(), Shared: sh.blobs, MaxSize: 3 * store.BlobChunk}
		archive := bigRelease(t)
		d := storeDigest(archive)
		unsafe := gzipped(t, mustTar(t, file("../escape", "pwned")))
		for name, put := range map[string]func() error{
			"announced digest differs": func() error {
				_, err := s.Put(ctx, bytes.NewReader(archive), "sha256:"+strings.Repeat("0", 64))
				return err
			},
			"too large": func() error {
				_, err := (&artifact.Store{Dir: s.Dir, Shared: sh.blobs, MaxSize: 1000}).Put(ctx, bytes.NewReader(archive), "")
				return err
			},
		} {
			if err := put(); err == nil {
				t.Errorf("%s: Put = nil, want a refusal", name)
			}
			if ok, err := sh.blobs.HasBlob(ctx, d); err != nil || ok {
				t.Errorf("%s: HasBlob = %v, %v after the refusal; want false", name, ok, err)
			}
		}
		if _, err := s.PutRelease(ctx, bytes.NewReader(unsafe), "", artifact.FormatTarGz); err == nil {
			t.Error("PutRelease(unsafe archive) = nil, want a refusal")
		}
		if ok, err := sh.blobs.HasBlob(ctx, storeDigest(unsafe)); err != nil || ok {
			t.Errorf("HasBlob(unsafe archive) = %v, %v; want false", ok, err)
		}
	})
}

// TestPutFailsWhenTheSharedStoreDoes: an artifact the other instances
// could not read is not taken, so no release is registered that only one
// disk holds.
func TestPutFailsWhenTheSharedStoreDoes(t *testing.T) {
	sh := backends()["postgres"](t)
	sh.close()
	s := &artifact.Store{Dir: t.TempDir(), Shared: sh.blobs}
	if _, err := s.Put(context.Background(), strings.NewReader("#!/bin/sh\n"), ""); err == nil || !strings.Contains(err.Error(), "share artifact") {
		t.Errorf("Put with the shared store down = %v, want a share error", err)
	}
	if left := files(s.Dir); len(left) != 0 {
		t.Errorf("after a failed share, the directory holds %v, want nothing", left)
	}
}

// TestShareUploadsArtifactsOnlyOnDisk: artifacts taken before they were
// shared (only this disk has them) are copied to the shared store, once;
// one whose bytes changed on disk is refused, the others copied all the
// same.
func TestShareUploadsArtifactsOnlyOnDisk(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sh sharedStore) {
		ctx := context.Background()
		dir := t.TempDir()
		old := &artifact.Store{Dir: dir} // as bascule stored them before
		var digests []string
		for _, body := range []string{"#!/bin/sh\necho v1\n", string(bigRelease(t)), "#!/bin/sh\necho tampered\n"} {
			b, err := old.Put(ctx, strings.NewReader(body), "")
			if err != nil {
				t.Fatal(err)
			}
			digests = append(digests, b.Digest)
		}
		tampered := digests[2]
		path := filepath.Join(dir, "blobs", strings.ReplaceAll(tampered, ":", "-"))
		if err := os.WriteFile(path, []byte("#!/bin/sh\necho evil\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s := &artifact.Store{Dir: dir, Shared: sh.blobs}
		notHere := storeDigest([]byte("on another instance's disk"))
		n, err := s.Share(ctx, append(digests, digests[0], notHere, "not a digest"))
		if n != 2 || err == nil || !strings.Contains(err.Error(), tampered) {
			t.Errorf("Share = %d, %v; want 2 copied and an error naming %s", n, err, tampered)
		}
		for i, d := range digests {
			ok, err := sh.blobs.HasBlob(ctx, d)
			if want := i != 2; err != nil || ok != want {
				t.Errorf("HasBlob(artifact %d) after Share = %v, %v; want %v", i, ok, err, want)
			}
		}
		if n, err := s.Share(ctx, digests[:2]); n != 0 || err != nil {
			t.Errorf("Share again = %d, %v; want nothing to copy", n, err)
		}
		other := &artifact.Store{Dir: t.TempDir(), Shared: sh.blobs}
		if _, err := other.Unpack(ctx, digests[1], artifact.FormatTarGz, "app.tar.gz"); err != nil {
			t.Errorf("Unpack on another instance of a shared old artifact = %v", err)
		}
	})
}

func storeDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
