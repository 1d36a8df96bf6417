package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cliFlags = `segments:
  - key: internal-users
    conditions:
      - {attribute: email, op: ends_with, value: "@example.com"}
flags:
  - key: checkout-v2
    owner: payments
    enabled: true
    rules:
      - segment: internal-users
        variant: "on"
      - percentage: 10
  - key: old-banner
    enabled: false
`

// TestCLIFlagsAsCode: apply shows the diff and applies it, a second apply
// changes nothing, a bad file is refused whole with its lines, export
// writes back what applies to no change, and the switches work.
func TestCLIFlagsAsCode(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	dir := t.TempDir()
	file := filepath.Join(dir, "flags.yaml")
	os.WriteFile(file, []byte(cliFlags), 0o644)

	out, code := runCLI(t, in, "flags", "apply", "-f", file, "--dry-run")
	if code != 0 || !strings.Contains(out, `+ flag "checkout-v2"`) || !strings.Contains(out, "dry run: 3 change(s) not applied") {
		t.Fatalf("flags apply --dry-run = %d\n%s", code, out)
	}
	out, code = runCLI(t, in, "flags", "apply", "-f", file)
	if code != 0 || !strings.Contains(out, `+ segment "internal-users"`) || !strings.Contains(out, "applied 3 change(s): flags are at version 1") {
		t.Fatalf("flags apply = %d\n%s", code, out)
	}
	if out, code = runCLI(t, in, "flags", "apply", "-f", file); code != 0 || !strings.Contains(out, "no changes: flags are at version 1") {
		t.Errorf("second flags apply = %d %q, want no changes", code, out)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(strings.Replace(cliFlags, "percentage: 10", "percentage: 10.0001", 1), "enabled: false", "enabled: maybe", 1)), 0o644)
	out, code = runCLI(t, in, "flags", "apply", "-f", bad)
	if code != 1 || !strings.Contains(out, bad+":12: ") || !strings.Contains(out, bad+":14: ") {
		t.Errorf("flags apply of a file with two mistakes = %d\n%s\nwant exit 1 and both lines", code, out)
	}

	exported := filepath.Join(dir, "exported.yaml")
	if out, code := runCLI(t, in, "flags", "export", "-o", exported); code != 0 {
		t.Fatalf("flags export = %d %q", code, out)
	}
	if out, code := runCLI(t, in, "flags", "apply", "-f", exported); code != 0 || !strings.Contains(out, "no changes") {
		t.Errorf("applying the exported file = %d %q, want no changes", code, out)
	}

	steps := []struct {
		args []string
		want string
	}{
		{[]string{"flags", "rollout", "checkout-v2", "25%"}, "rule 2: everyone: 10% on → everyone: 25% on"},
		{[]string{"flags", "rollout", "checkout-v2", "25"}, "flag checkout-v2 already serves 25.000%"},
		{[]string{"flags", "disable", "checkout-v2"}, "enabled: true → false"},
		{[]string{"flags", "disable", "checkout-v2"}, "flag checkout-v2 was already disabled"},
		{[]string{"flags", "enable", "checkout-v2"}, "flags are at version 4"},
		{[]string{"flags", "list"}, "checkout-v2  release  segment internal-users: on; everyone: 25% on  payments"},
		{[]string{"flags", "show", "checkout-v2"}, "      - percentage: 25"},
		{[]string{"flags", "stale"}, "no release flag is ready to remove"},
	}
	for _, st := range steps {
		if out, code := runCLI(t, in, st.args...); code != 0 || !strings.Contains(out, st.want) {
			t.Errorf("bascule %s = %d\n%s\nwant %q", strings.Join(st.args, " "), code, out, st.want)
		}
	}
	if out, code := runCLI(t, in, "flags", "enable", "nope"); code != 1 || !strings.Contains(out, `flag "nope": not found`) {
		t.Errorf("flags enable nope = %d %q, want exit 1, not found", code, out)
	}
}
