package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, in *instance, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	env := map[string]string{"BASCULE_URL": "http://" + in.control, "BASCULE_TOKEN": adminToken}
	code := run(context.Background(), args, &out, &out, func(k string) string { return env[k] })
	return out.String(), code
}

func TestCLIDeployShowsStepsAndOutcome(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "release.txt"), []byte("v1\n"), 0o644)
	out, code := runCLI(t, in, "release", "add", "v1", dir)
	if code != 0 || !strings.Contains(out, "release registered v1 sha256:") {
		t.Fatalf("release add = %d %q", code, out)
	}
	out, code = runCLI(t, in, "release", "add", "v1", dir)
	if code != 0 || !strings.Contains(out, "already registered") {
		t.Fatalf("release add of the same directory again = %d %q, want the same digest recognised", code, out)
	}
	out, code = runCLI(t, in, "deploy", "v1", "-m", "first")
	for _, want := range []string{"deployment #1: v1 → blue", "✓ fetch", "- migrate", "✓ start", "✓ health", "v1 is ready on blue"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	if out, code = runCLI(t, in, "go-live"); code != 0 || !strings.Contains(out, "v1 is live on blue") {
		t.Errorf("go-live = %d %q", code, out)
	}
	if out, code = runCLI(t, in, "finalize", "-m", "v1 is good"); code != 0 || !strings.Contains(out, "v1 is live on blue (finalized)") {
		t.Errorf("finalize = %d %q", code, out)
	}
	if out, code = runCLI(t, in, "finalize"); code != 1 || !strings.Contains(out, "already finalized") {
		t.Errorf("finalize twice = %d %q, want a refusal", code, out)
	}
	out, code = runCLI(t, in, "status")
	if code != 0 || !strings.Contains(out, "blue   LIVE  v1") {
		t.Errorf("status = %d\n%s", code, out)
	}
	out, code = runCLI(t, in, "rollback")
	if code != 1 || !strings.Contains(out, "nothing to roll back to") {
		t.Errorf("rollback with nothing = %d %q, want exit 1 and the reason", code, out)
	}
	os.WriteFile(filepath.Join(dir, "release.txt"), []byte("v2\ncrash=no database\n"), 0o644)
	runCLI(t, in, "release", "add", "v2", dir)
	out, code = runCLI(t, in, "deploy", "v2")
	for _, want := range []string{"✗ health", "deployment #2 failed", "| ", "no database", "production traffic did not move"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("failed deploy output lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	out, code = runCLI(t, in, "history")
	if code != 0 || !strings.Contains(out, "failed") || !strings.Contains(out, "finalized") {
		t.Errorf("history = %d\n%s", code, out)
	}
}

func TestServeRejectsBadConfigWithLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bascule.yaml")
	os.WriteFile(path, []byte("listen: 127.0.0.1:8080\nhealth_check:\n  intervall: 1s\n"), 0o644)
	var out bytes.Buffer
	code := run(context.Background(), []string{"serve", "-c", path}, &out, &out, func(string) string { return "" })
	if code == 0 || !strings.Contains(out.String(), path+":3: unknown key \"intervall\"") {
		t.Errorf("serve with a bad config = %d %q, want file:3: unknown key", code, out.String())
	}
}
