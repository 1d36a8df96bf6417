package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

// `bascule release prune --dry-run` says what it would remove and removes
// nothing; `bascule release prune` removes it, from the data directory
// too; `release list` says so; deploying a collected release fails before
// anything starts, and the same files added again under a new version
// deploy. Only an admin prunes.
func TestCLIReleasePrune(t *testing.T) {
	in := newInstance(t, "artifacts: {keep: 2, grace: 0s}\n")
	in.start()
	ctx := context.Background()
	dirs := map[string]string{}
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "release.txt"), []byte(v+"\n"), 0o644)
		dirs[v] = dir
		if out, code := runCLI(t, in, "release", "add", v, dir); code != 0 {
			t.Fatalf("release add %s = %d %q", v, code, out)
		}
	}
	blobs := func() int {
		list, _ := filepath.Glob(filepath.Join(in.dir, "data", "releases", "blobs", "sha256-*"))
		return len(list)
	}
	if n := blobs(); n != 4 {
		t.Fatalf("%d artifacts in the data directory after adding four releases", n)
	}

	for _, role := range []string{store.RoleDeployer, store.RoleViewer} {
		_, token, err := in.cl.CreateToken(ctx, role+"-ci", role, "")
		if err != nil {
			t.Fatal(err)
		}
		if out, code := runCLIAs(in, token, "release", "prune"); code == 0 || !strings.Contains(out, "403") && !strings.Contains(out, "forbidden") && !strings.Contains(out, "admin") {
			t.Errorf("release prune as %s = %d %q, want refused", role, code, out)
		}
	}

	out, code := runCLI(t, in, "release", "prune", "--dry-run")
	if code != 0 || !strings.Contains(out, "would remove the artifact of v2") || !strings.Contains(out, "would remove the artifact of v1") ||
		strings.Contains(out, "of v3") || !strings.Contains(out, "would remove 2 artifact(s)") {
		t.Fatalf("release prune --dry-run = %d\n%s\nwant v2 and v1, not v3 or v4", code, out)
	}
	if n := blobs(); n != 4 {
		t.Errorf("%d artifacts in the data directory after a dry run, want the 4 still", n)
	}
	if out, _ := runCLI(t, in, "release", "list"); strings.Contains(out, "collected") {
		t.Errorf("release list after a dry run says something was collected:\n%s", out)
	}

	out, code = runCLI(t, in, "release", "prune")
	if code != 0 || !strings.Contains(out, "removed the artifact of v2") || !strings.Contains(out, "removed the artifact of v1") ||
		!strings.Contains(out, "removed 2 artifact(s)") || !strings.Contains(out, "(artifacts.keep: 2)") {
		t.Fatalf("release prune = %d\n%s\nwant v2 and v1 removed", code, out)
	}
	if n := blobs(); n != 2 {
		t.Errorf("%d artifacts in the data directory after the prune, want 2", n)
	}
	out, _ = runCLI(t, in, "release", "list")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "VERSION" {
			continue
		}
		if collected := strings.Contains(line, "collected"); collected != (f[0] == "v1" || f[0] == "v2") {
			t.Errorf("release list line %q: collected %v, want only v1 and v2 collected", line, collected)
		}
	}
	if out, _ := runCLI(t, in, "release", "prune"); !strings.Contains(out, "removed 0 artifact(s)") {
		t.Errorf("release prune again = %q, want nothing more", out)
	}

	out, code = runCLI(t, in, "deploy", "v1")
	if code == 0 || !strings.Contains(out, "the artifact of v1 was collected (artifacts.keep: 2)") || !strings.Contains(out, "bascule release add v1-again") {
		t.Fatalf("deploy v1 (collected) = %d\n%s\nwant a refusal saying how to add it again", code, out)
	}
	if list, _ := in.cl.Deployments(ctx, 10); len(list) != 0 {
		t.Errorf("deploy of a collected release created deployments: %+v", list)
	}
	if out, code := runCLI(t, in, "release", "add", "v1-again", dirs["v1"]); code != 0 {
		t.Fatalf("release add v1-again = %d %q", code, out)
	}
	if d := in.deploy("v1-again"); d.State != store.StateReady {
		t.Errorf("deploy v1-again (v1's files) = %s: %s, want ready", d.State, d.Error)
	}
}
