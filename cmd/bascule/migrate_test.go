package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// runLocal runs the CLI without a server and returns stdout, stderr and
// the exit status.
func runLocal(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, func(string) string { return "" })
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestMigrateLintGolden(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"migrate-lint.golden", []string{"migrate", "lint", "testdata/migrations"}},
		{"migrate-lint.json.golden", []string{"migrate", "lint", "testdata/migrations", "--json"}},
		{"migrate-lint-sqlite.golden", []string{"migrate", "lint", "testdata/migrations", "--driver", "sqlite"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			out, errOut, code := runLocal(c.args...)
			if code != 1 || !strings.Contains(errOut, "blocking findings") {
				t.Errorf("%v = exit %d, stderr %q; want exit 1 for blocking findings", c.args, code, errOut)
			}
			golden(t, c.golden, out)
		})
	}
}

func TestMigrateLintCleanFolder(t *testing.T) {
	out, errOut, code := runLocal("migrate", "lint", "testdata/migrations-clean")
	if code != 0 || out != "1 file checked: 0 errors, 0 warnings, 0 allowed\n" {
		t.Errorf("lint of a clean folder = exit %d, %q %q", code, out, errOut)
	}
}

func TestMigrateLintRefusesAFolderWithoutPhases(t *testing.T) {
	_, errOut, code := runLocal("migrate", "lint", "testdata")
	if code != 1 || !strings.Contains(errOut, "holds no expand/ or contract/ folder") {
		t.Errorf("lint of testdata/ = exit %d, %q; want it to ask for the migrations folder", code, errOut)
	}
}

func TestMigrateStatusWithoutDatabase(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	out, code := runCLI(t, in, "migrate", "status")
	if code != 0 || !strings.Contains(out, "no database configured") {
		t.Errorf("migrate status without a database = exit %d, %q", code, out)
	}
}
