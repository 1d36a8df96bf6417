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

// writeMigrations writes phase/NNN_name.sql files under a new folder.
func writeMigrations(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, src := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A migrations folder carries the files of every release. A table that
// 001 created long ago has live rows when 006 drops one of its columns:
// the lint must not take it for a table new in this release.
func TestMigrateLintFolderWithHistory(t *testing.T) {
	older := map[string]string{
		"expand/001_accounts.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, nickname text);\n",
		"expand/002_plans.sql":    "CREATE TABLE plans (id bigint PRIMARY KEY);\n",
	}
	all := map[string]string{
		"expand/003_drop_nickname.sql": "ALTER TABLE accounts DROP COLUMN nickname;\n",
		"expand/004_coupons.sql":       "CREATE TABLE coupons (code text PRIMARY KEY, plan_id bigint);\n",
		"expand/005_coupons_plan.sql":  "CREATE INDEX coupons_plan_idx ON coupons (plan_id);\n",
	}
	for k, v := range older {
		all[k] = v
	}
	dir, prev := writeMigrations(t, all), writeMigrations(t, older)

	out, _, code := runLocal("migrate", "lint", dir)
	if code != 1 || !strings.Contains(out, "expand/003_drop_nickname.sql:1: error drop-column") {
		t.Errorf("lint of a folder with history = exit %d:\n%s\nwant the DROP COLUMN in 003 refused", code, out)
	}

	out, _, code = runLocal("migrate", "lint", dir, "--since", prev)
	if code != 1 || !strings.Contains(out, "expand/003_drop_nickname.sql:1: error drop-column") {
		t.Errorf("lint --since = exit %d:\n%s\nwant the DROP COLUMN in 003 refused", code, out)
	}
	// --since knows coupons is new in this release: its index is built on
	// an empty table, which locks nothing that matters.
	if strings.Contains(out, "005_coupons_plan") || !strings.Contains(out, "3 files checked") {
		t.Errorf("lint --since = \n%s\nwant only 003-005 checked and the index on the new coupons table accepted", out)
	}

	changed := writeMigrations(t, map[string]string{"expand/001_accounts.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY);\n"})
	_, errOut, code := runLocal("migrate", "lint", dir, "--since", changed)
	if code != 1 || !strings.Contains(errOut, "expand/001_accounts.sql differs from expand/001_accounts.sql of the previous release") {
		t.Errorf("lint --since a folder whose 001 differs = exit %d, %q; want the drift refused", code, errOut)
	}
}
