package artifact_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/artifact"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPackUnpackRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := writeTree(t, map[string]string{"run.sh": "#!/bin/sh\necho hi\n", "conf/app.txt": "v2"})
	var a, b bytes.Buffer
	if err := artifact.PackDir(&a, src); err != nil {
		t.Fatal(err)
	}
	// Touch the tree: a reproducible pack ignores modification times.
	later := filepath.Join(src, "conf/app.txt")
	a2000 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(later, a2000, a2000)
	if err := artifact.PackDir(&b, src); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("PackDir of the same tree gave different bytes; digests would differ")
	}
	s := &artifact.Store{Dir: t.TempDir()}
	blob, err := s.Put(ctx, bytes.NewReader(a.Bytes()), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := artifact.DetectFormat(a.Bytes()); got != artifact.FormatTarGz {
		t.Fatalf("DetectFormat = %s, want tar.gz", got)
	}
	dir, err := s.Unpack(ctx, blob.Digest, artifact.FormatTarGz, "release.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "conf/app.txt"))
	if err != nil || string(body) != "v2" {
		t.Fatalf("unpacked conf/app.txt = %q, %v; want v2", body, err)
	}
	st, err := os.Stat(filepath.Join(dir, "run.sh"))
	if err != nil || st.Mode()&0o100 == 0 {
		t.Fatalf("run.sh lost its exec bit: %v %v", st.Mode(), err)
	}
}

func TestPutDigestChecks(t *testing.T) {
	ctx := context.Background()
	s := &artifact.Store{Dir: t.TempDir(), MaxSize: 10}
	b, err := s.Put(ctx, strings.NewReader("hello"), "")
	if err != nil {
		t.Fatal(err)
	}
	if b.Digest != "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" || b.Size != 5 {
		t.Errorf("Put(hello) = %+v, want the sha256 of hello", b)
	}
	if _, err := s.Put(ctx, strings.NewReader("hello"), "sha256:00"); !errors.Is(err, artifact.ErrDigestMismatch) {
		t.Errorf("Put with a wrong announced digest = %v, want ErrDigestMismatch", err)
	}
	if _, err := s.Put(ctx, strings.NewReader("hello world!"), ""); !errors.Is(err, artifact.ErrTooLarge) {
		t.Errorf("Put over MaxSize = %v, want ErrTooLarge", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(s.Dir, "blobs", ".upload-*"))
	if len(leftovers) != 0 {
		t.Errorf("refused uploads left temp files: %v", leftovers)
	}
}

func TestUnpackSingleFileAndTamper(t *testing.T) {
	ctx := context.Background()
	s := &artifact.Store{Dir: t.TempDir()}
	b, err := s.Put(ctx, strings.NewReader("#!/bin/sh\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits the stored bytes: unpacking must refuse to run them.
	blobs, _ := filepath.Glob(filepath.Join(s.Dir, "blobs", "sha256-*"))
	os.WriteFile(blobs[0], []byte("#!/bin/sh\nrm -rf /\n"), 0o644)
	if _, err := s.Unpack(ctx, b.Digest, artifact.FormatFile, "app"); !errors.Is(err, artifact.ErrDigestMismatch) {
		t.Fatalf("Unpack of a tampered blob = %v, want ErrDigestMismatch", err)
	}
	os.WriteFile(blobs[0], []byte("#!/bin/sh\n"), 0o644)
	dir, err := s.Unpack(ctx, b.Digest, artifact.FormatFile, "../../app")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "app")); err != nil || st.Mode()&0o100 == 0 {
		t.Fatalf("single-file release not unpacked as an executable: %v", err)
	}
}

// A release that is an image carries its migrations as migrations/, where
// the pipeline looks: PackDirAs puts the tree there, and packs an empty
// tree as the directory alone (a release with no migrations).
func TestPackDirAs(t *testing.T) {
	ctx := context.Background()
	src := writeTree(t, map[string]string{"expand/001_add.sql": "ALTER TABLE t ADD COLUMN c int;"})
	s := &artifact.Store{Dir: t.TempDir()}
	unpack := func(dir string) string {
		var buf bytes.Buffer
		if err := artifact.PackDirAs(&buf, dir, "migrations"); err != nil {
			t.Fatal(err)
		}
		blob, err := s.PutRelease(ctx, bytes.NewReader(buf.Bytes()), "", artifact.FormatTarGz)
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Unpack(ctx, blob.Digest, artifact.FormatTarGz, "migrations.tar.gz")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := unpack(src)
	if body, err := os.ReadFile(filepath.Join(out, "migrations/expand/001_add.sql")); err != nil || !strings.Contains(string(body), "ADD COLUMN") {
		t.Errorf("unpacked migrations/expand/001_add.sql = %q, %v", body, err)
	}
	out = unpack(t.TempDir())
	if st, err := os.Stat(filepath.Join(out, "migrations")); err != nil || !st.IsDir() {
		t.Errorf("empty tree: migrations/ = %v, %v; want a directory", st, err)
	}
}
