package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `bascule release add --image` registers an image by digest with its
// migrations; a tag alone is refused before anything is sent; `release
// list` shows the image.
func TestCLIReleaseAddImage(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	const image = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "expand"), 0o755)
	os.WriteFile(filepath.Join(dir, "expand", "001_note.sql"), []byte("ALTER TABLE orders ADD COLUMN note text;\n"), 0o644)

	out, code := runCLI(t, in, "release", "add", "v3", "--image", "registry.example.com/shop:v3", "--migrations", dir)
	if code != 1 || !strings.Contains(out, "names no digest") || !strings.Contains(out, "@sha256:") {
		t.Errorf("release add with a tag = %d %q, want exit 1 saying to name the digest", code, out)
	}
	out, code = runCLI(t, in, "release", "add", "v3", "--image", image, "--migrations", dir)
	if code != 0 || !strings.Contains(out, "release registered v3 "+image+" (migrations sha256:") {
		t.Fatalf("release add --image = %d %q", code, out)
	}
	out, code = runCLI(t, in, "release", "add", "v3", "--image", image, "--migrations", dir)
	if code != 0 || !strings.Contains(out, "already registered, same image and migrations") {
		t.Errorf("release add --image again = %d %q, want it recognised", code, out)
	}
	out, code = runCLI(t, in, "release", "add", "v4", "--image", image)
	if code != 0 || !strings.Contains(out, "release registered v4") {
		t.Errorf("release add --image without migrations = %d %q", code, out)
	}
	out, code = runCLI(t, in, "release", "list")
	if code != 0 || !strings.Contains(out, "IMAGE") || strings.Count(out, image) != 2 {
		t.Errorf("release list = %d\n%s\nwant v3 and v4 with their image", code, out)
	}
	out, code = runCLI(t, in, "release", "add", "v5", dir, "--migrations", dir)
	if code != 1 || !strings.Contains(out, "--migrations goes with --image") {
		t.Errorf("release add PATH --migrations = %d %q, want a refusal", code, out)
	}
}
