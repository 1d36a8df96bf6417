package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runArgs runs the CLI in-process with no environment and returns its
// combined output and exit status.
func runArgs(args ...string) (string, int) {
	var out bytes.Buffer
	code := run(context.Background(), args, &out, &out, func(string) string { return "" })
	return out.String(), code
}

// Config problems are each on their own line, all with the same prefix,
// at the right line; a missing file says where to start.
func TestServeConfigErrorsSayWhereAndWhat(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "bascule.yaml")
	out, code := runArgs("serve", "-c", missing)
	if code != 1 || !strings.Contains(out, missing+" does not exist") || !strings.Contains(out, "examples/bascule.yaml") || !strings.Contains(out, "bascule demo") {
		t.Errorf("serve with no config file = %d %q, want where to start", code, out)
	}

	indented := filepath.Join(dir, "indented.yaml")
	os.WriteFile(indented, []byte("app: shop\nhealth_check:\n  path: /x\n   interval: 1s\n"), 0o644)
	if out, _ := runArgs("serve", "-c", indented); !strings.Contains(out, indented+":4: invalid YAML") {
		t.Errorf("a key indented too far on line 4 = %q, want it placed on line 4", out)
	}

	several := filepath.Join(dir, "several.yaml")
	os.WriteFile(several, []byte("app: shop\nlisten: a\ncontrol: b\n"), 0o644)
	out, _ = runArgs("serve", "-c", several)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("three problems gave %d lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "bascule: "+several) {
			t.Errorf("line %q lacks the prefix %q", l, "bascule: "+several)
		}
	}
}

// An address in use names the key and the line that set it, or the flag.
func TestServePortInUseNamesKeyAndFile(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	dir := t.TempDir()
	path := filepath.Join(dir, "bascule.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf("app: shop\nruntime:\n  process:\n    command: [./app]\nlisten: %s\ncontrol: 127.0.0.1:0\ndata_dir: %s\n", addr, dir)), 0o644)
	want := fmt.Sprintf("bascule: %s:5: listen: %s is in use", path, addr)
	if out, code := runArgs("serve", "-c", path); code != 1 || !strings.Contains(out, want) {
		t.Errorf("serve with listen: in use = %d %q, want %q", code, out, want)
	}
	want = fmt.Sprintf("bascule: --control %s is in use", addr)
	if out, code := runArgs("serve", "-c", path, "--listen", "127.0.0.1:0", "--control", addr); code != 1 || !strings.Contains(out, want) {
		t.Errorf("serve with --control in use = %d %q, want %q", code, out, want)
	}
}

func TestMigrateLintMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nonexistent")
	if out, code := runArgs("migrate", "lint", dir); code != 1 || !strings.Contains(out, "migrations folder "+dir+" does not exist") {
		t.Errorf("migrate lint of a missing folder = %d %q, want it said", code, out)
	}
}
