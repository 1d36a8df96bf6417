package api_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// releaseArchive packs one file holding content.
func releaseArchive(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "release.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

type pruneAnswer struct {
	DryRun   bool `json:"dry_run"`
	Keep     int  `json:"keep"`
	Releases []struct {
		Version string `json:"version"`
		Digest  string `json:"digest"`
	} `json:"releases"`
}

// TestPruneNeedsAdmin: only an admin prunes; a viewer's or a deployer's
// token or session is refused with 403 and nothing is collected. The
// admin's dry run deletes nothing; the prune collects v1, which the
// release JSON then says, and whose deployment answers 410.
func TestPruneNeedsAdmin(t *testing.T) {
	f := newFixtureWith(t, func(o *deploy.Options) { o.Retention = deploy.Retention{Keep: 1} })
	v1 := releaseArchive(t, "v1")
	for _, v := range []string{"v1", "v2"} {
		if r := f.do(f.admin(), "POST", "/api/v1/releases?version="+v+"&filename=app.tar.gz", releaseArchive(t, v)); r.status != http.StatusCreated {
			t.Fatalf("POST /api/v1/releases %s = %d %s", v, r.status, r.body)
		}
	}
	for _, name := range []string{"viewer token", "viewer session", "deployer token", "deployer session"} {
		c := f.creds[name]
		if r := f.do(&c, "POST", "/api/v1/releases/prune", ""); r.status != http.StatusForbidden || r.code != "forbidden" {
			t.Errorf("%s: POST /api/v1/releases/prune = %d %s, want 403 forbidden", name, r.status, r.code)
		}
	}
	var rel store.Release
	f.do(f.admin(), "GET", "/api/v1/releases/v1", "").decode(t, &rel)
	if rel.Collected() {
		t.Fatal("v1 collected by a refused prune")
	}

	var dry pruneAnswer
	r := f.do(f.admin(), "POST", "/api/v1/releases/prune?dry_run=true", "")
	r.decode(t, &dry)
	if r.status != http.StatusOK || !dry.DryRun || dry.Keep != 1 || len(dry.Releases) != 1 || dry.Releases[0].Version != "v1" {
		t.Fatalf("dry run = %d %s, want 200, dry, v1 only", r.status, r.body)
	}
	f.do(f.admin(), "GET", "/api/v1/releases/v1", "").decode(t, &rel)
	if rel.Collected() || !f.arts.Has(rel.Digest) {
		t.Fatalf("after the dry run: v1 collected %v, on disk %v; want kept", rel.Collected(), f.arts.Has(rel.Digest))
	}

	var done pruneAnswer
	r = f.do(f.admin(), "POST", "/api/v1/releases/prune", "")
	r.decode(t, &done)
	if r.status != http.StatusOK || done.DryRun || len(done.Releases) != 1 || done.Releases[0].Version != "v1" {
		t.Fatalf("prune = %d %s, want 200, v1 collected", r.status, r.body)
	}
	var list struct{ Releases []map[string]any }
	f.do(f.admin(), "GET", "/api/v1/releases", "").decode(t, &list)
	for _, rel := range list.Releases {
		_, collected := rel["collected_at"]
		if collected != (rel["version"] == "v1") {
			t.Errorf("GET /api/v1/releases: %v has collected_at %v, want only v1 to", rel["version"], collected)
		}
	}
	if f.arts.Has(rel.Digest) {
		t.Error("v1's artifact is still on disk after the prune")
	}

	r = f.do(f.admin(), "POST", "/api/v1/deployments", `{"version":"v1"}`)
	var e struct {
		Error struct{ Code, Message string }
	}
	r.decode(t, &e)
	if r.status != http.StatusGone || e.Error.Code != "artifact_collected" ||
		!strings.Contains(e.Error.Message, "the artifact of v1 was collected (artifacts.keep: 1)") {
		t.Errorf("POST /api/v1/deployments v1 = %d %s, want 410 artifact_collected naming v1", r.status, r.body)
	}
	r = f.do(f.admin(), "POST", "/api/v1/releases?version=v1&filename=app.tar.gz", v1)
	if r.status != http.StatusConflict || r.code != "release_collected" || !strings.Contains(string(r.body), "v1-again") {
		t.Errorf("POST /api/v1/releases v1 again, same bytes = %d %s, want 409 release_collected pointing at v1-again", r.status, r.body)
	}
	if r := f.do(f.admin(), "POST", "/api/v1/releases/prune?dry_run=maybe", ""); r.status != http.StatusBadRequest {
		t.Errorf("prune?dry_run=maybe = %d %s, want 400", r.status, r.body)
	}
}
