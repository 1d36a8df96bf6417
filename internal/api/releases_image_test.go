package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/store"
)

const shopImage = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// migrationsArchive packs one expand migration as migrations/, as
// `bascule release add --image --migrations` does.
func migrationsArchive(t *testing.T, sql string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "expand"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "expand", "001_add.sql"), []byte(sql), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDirAs(&buf, dir, "migrations"); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func imageReleasePath(version, image string) string {
	return "/api/v1/releases?" + url.Values{"version": {version}, "image": {image}, "filename": {"migrations.tar.gz"}}.Encode()
}

// A release that is an image: registered by digest with its migrations
// beside it, shown with its image; registering it again is idempotent only
// for the same image.
func TestAddImageRelease(t *testing.T) {
	f := newFixture(t)
	body := migrationsArchive(t, "ALTER TABLE orders ADD COLUMN note text;")
	resp := f.do(f.admin(), "POST", imageReleasePath("v3", shopImage), body)
	if resp.status != http.StatusCreated {
		t.Fatalf("POST image release = %d %s, want 201", resp.status, resp.body)
	}
	var rel store.Release
	resp.decode(t, &rel)
	if rel.Image != shopImage || rel.Format != artifact.FormatTarGz || !strings.HasPrefix(rel.Digest, "sha256:") {
		t.Errorf("registered %+v, want image %s with a tar.gz of migrations", rel, shopImage)
	}
	var list struct{ Releases []store.Release }
	f.do(f.admin(), "GET", "/api/v1/releases", "").decode(t, &list)
	if len(list.Releases) != 1 || list.Releases[0].Image != shopImage {
		t.Errorf("GET /api/v1/releases = %+v, want v3 with its image", list.Releases)
	}

	if resp := f.do(f.admin(), "POST", imageReleasePath("v3", shopImage), body); resp.status != http.StatusOK {
		t.Errorf("the same image release again = %d %s, want 200", resp.status, resp.body)
	}
	other := strings.Replace(shopImage, "sha256:0", "sha256:f", 1)
	resp = f.do(f.admin(), "POST", imageReleasePath("v3", other), body)
	if resp.status != http.StatusConflict || !strings.Contains(string(resp.body), other) {
		t.Errorf("v3 again with another image = %d %s, want 409 naming it", resp.status, resp.body)
	}
	if got, _ := f.db.Release(context.Background(), "v3"); got.Image != shopImage {
		t.Errorf("after the refused re-registration v3's image = %s, want %s", got.Image, shopImage)
	}
}

// A tag is not a release: it can be moved to other bytes. It is refused
// with a message that says how to get the digest, and nothing is
// registered.
func TestAddImageReleaseRefusesTagsAndBadDigests(t *testing.T) {
	f := newFixture(t)
	body := migrationsArchive(t, "SELECT 1;")
	for _, tc := range []struct{ name, image, want string }{
		{"tag alone", "registry.example.com/shop:v3", "names no digest"},
		{"short digest", "registry.example.com/shop@sha256:0123", "64 lowercase hex"},
		{"empty", "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do(f.admin(), "POST", imageReleasePath("v3", tc.image), body)
			if resp.status != http.StatusBadRequest || resp.code != "invalid_image" || !strings.Contains(string(resp.body), tc.want) {
				t.Errorf("POST image %q = %d %s, want 400 invalid_image saying %q", tc.image, resp.status, resp.body, tc.want)
			}
		})
	}
	resp := f.do(f.admin(), "POST", imageReleasePath("v3", shopImage), "just a file, not an archive")
	if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "--migrations") {
		t.Errorf("image release with a plain file = %d %s, want 400 saying how to pack migrations", resp.status, resp.body)
	}
	if r := f.do(f.admin(), "GET", "/api/v1/releases/v3", ""); r.status != http.StatusNotFound {
		t.Errorf("GET v3 after the refusals = %d, want 404", r.status)
	}
}

// Until the kubernetes driver runs it, an image cannot be deployed: the
// process driver would unpack its migrations and find no program. The
// deployment is refused before anything starts, saying why.
func TestDeployImageWithProcessDriverRefused(t *testing.T) {
	f := newFixture(t)
	if resp := f.do(f.admin(), "POST", imageReleasePath("v3", shopImage), migrationsArchive(t, "SELECT 1;")); resp.status != http.StatusCreated {
		t.Fatalf("POST image release = %d %s", resp.status, resp.body)
	}
	resp := f.do(f.admin(), "POST", "/api/v1/deployments", `{"version":"v3"}`)
	if resp.status != http.StatusUnprocessableEntity || resp.code != "image_release" || !strings.Contains(string(resp.body), "runtime.driver: kubernetes") {
		t.Errorf("deploy an image with the process driver = %d %s, want 422 image_release naming the kubernetes driver", resp.status, resp.body)
	}
	var list struct{ Deployments []store.Deployment }
	f.do(f.admin(), "GET", "/api/v1/deployments", "").decode(t, &list)
	if len(list.Deployments) != 0 {
		t.Errorf("deployments after the refusal: %+v, want none", list.Deployments)
	}
}
