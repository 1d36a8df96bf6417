package api_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// chainedArchive is issue 11's archive as a tar.gz: links that each look
// harmless lexically, chained to climb out of the release directory.
func chainedArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeSymlink, Name: "a", Linkname: "."},
		{Typeflag: tar.TypeSymlink, Name: "b", Linkname: "a/.."},
		{Typeflag: tar.TypeReg, Name: "b/x", Size: 5, Mode: 0o644},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("pwned"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// TestAddReleaseRefusesUnsafeArchive: CI learns when it registers a
// release that its archive will not unpack: 422 naming the entry, nothing
// registered or stored, the refusal audited.
func TestAddReleaseRefusesUnsafeArchive(t *testing.T) {
	f := newFixture(t)
	corrupt := append([]byte{0x1f, 0x8b}, "gzip magic, then not gzip"...)
	for _, tc := range []struct {
		name, code, want string
		body             []byte
	}{
		{"chained symlinks", "unsafe_archive", `archive entry "b" is a symlink to "a/.."`, chainedArchive(t)},
		{"corrupt tar.gz", "invalid_archive", "invalid archive", corrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do(f.admin(), "POST", "/api/v1/releases?version=v1&filename=app.tar.gz", string(tc.body))
			var e struct {
				Error struct{ Code, Message string }
			}
			resp.decode(t, &e)
			if resp.status != http.StatusUnprocessableEntity || e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.want) {
				t.Errorf("POST /api/v1/releases = %d %s %q, want 422 %s %q", resp.status, e.Error.Code, e.Error.Message, tc.code, tc.want)
			}
			if r := f.do(f.admin(), "GET", "/api/v1/releases/v1", ""); r.status != http.StatusNotFound {
				t.Errorf("GET /api/v1/releases/v1 after the refusal = %d, want 404", r.status)
			}
		})
	}
	if blobs, _ := filepath.Glob(filepath.Join(f.arts.Dir, "blobs", "sha256-*")); len(blobs) != 0 {
		t.Errorf("refused archives were stored: %v", blobs)
	}
	audit, err := f.db.ListAudit(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, a := range audit {
		if a.Action == "release.add" && a.Outcome == "refused" {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("audit has %d refused release.add entries, want 2: %+v", refused, audit)
	}
}

// TestDeployRefusesUnsafeArchive: a release registered before archives
// were checked fails its deployment at fetch with the entry named, and
// its lint answers 422; nothing is written outside the release directory.
func TestDeployRefusesUnsafeArchive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	archive := chainedArchive(t)
	blob, err := f.arts.Put(ctx, bytes.NewReader(archive), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateRelease(ctx, store.Release{Version: "v1", Digest: blob.Digest, Size: blob.Size,
		Format: "tar.gz", Filename: "app.tar.gz", CreatedBy: "old bascule", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	resp := f.do(f.admin(), "POST", "/api/v1/deployments", `{"version":"v1"}`)
	if resp.status != http.StatusAccepted {
		t.Fatalf("POST /api/v1/deployments = %d %s", resp.status, resp.body)
	}
	var d store.Deployment
	resp.decode(t, &d)
	deadline := time.Now().Add(10 * time.Second)
	for d.FinishedAt == nil {
		if time.Now().After(deadline) {
			t.Fatalf("deployment still %s after 10s", d.State)
		}
		time.Sleep(10 * time.Millisecond)
		f.do(f.admin(), "GET", fmt.Sprintf("/api/v1/deployments/%d", d.ID), "").decode(t, &d)
	}
	if d.State != store.StateFailed || !strings.Contains(d.Error, `archive entry "b"`) || !strings.HasPrefix(d.Error, "fetch v1: ") {
		t.Errorf("deployment ended %s: %q; want failed at fetch naming entry \"b\"", d.State, d.Error)
	}
	resp = f.do(f.admin(), "POST", "/api/v1/releases/v1/lint", "")
	if resp.status != http.StatusUnprocessableEntity || resp.code != "unsafe_archive" {
		t.Errorf("POST /api/v1/releases/v1/lint = %d %s, want 422 unsafe_archive", resp.status, resp.code)
	}
	// b/x would have landed in the directory that holds the unpacked
	// releases: the store holds the blob and nothing else.
	filepath.WalkDir(f.arts.Dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) != "blobs" {
			t.Errorf("%s written by a refused unpack", p)
		}
		return nil
	})
}
