package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// The releases page says which releases' artifacts were collected, and
// only those.
func TestReleasesPageShowsCollected(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	for i, v := range []string{"v1", "v2"} {
		rel := store.Release{Version: v, Digest: "sha256:feedface" + v, Size: 45, Format: "tar.gz",
			Filename: v + ".tar.gz", CreatedBy: "token:ci", CreatedAt: time.Now().UTC().Add(time.Duration(i) * time.Minute)}
		if err := s.store.CreateRelease(ctx, rel); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.CollectRelease(ctx, "v1", time.Now()); err != nil {
		t.Fatal(err)
	}
	r := s.login("dana").get("/releases")
	if n := strings.Count(r.body, "artifact collected"); n != 1 {
		t.Fatalf("GET /releases (%d) says \"artifact collected\" %d times, want once (v1)", r.status, n)
	}
	v1 := strings.Index(r.body, "sha256:feedfacev1")
	if at := strings.Index(r.body, "artifact collected"); at < v1 || v1 < 0 {
		t.Errorf("\"artifact collected\" is not beside v1's digest")
	}
}
