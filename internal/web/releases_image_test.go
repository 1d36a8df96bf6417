package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// The releases page shows a release that is an image by its image, digest
// first visible, with the digest of its migrations beside it.
func TestReleasesPageShowsImage(t *testing.T) {
	s := newStack(t)
	const image = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	rel := store.Release{Version: "v3", Digest: "sha256:feedfacefeedfacefeedface", Size: 45, Format: "tar.gz",
		Filename: "migrations.tar.gz", CreatedBy: "token:ci", CreatedAt: time.Now().UTC(), Image: image}
	if err := s.store.CreateRelease(context.Background(), rel); err != nil {
		t.Fatal(err)
	}
	r := s.login("dana").get("/releases")
	for _, want := range []string{
		`title="` + image + `"`,
		"registry.example.com/shop@sha256:0123456789ab<",
		"migrations",
		"sha256:feedfacefeed",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("GET /releases (%d) lacks %q", r.status, want)
		}
	}
}
