package testreport

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A suite's skips make one line, on stderr and appended to the report
// file that `make test` prints; no skip, no line.
func TestReportNamesPackageAndCount(t *testing.T) {
	file := filepath.Join(t.TempDir(), "skips")
	env := func(k string) string {
		if k == ReportEnv {
			return file
		}
		return ""
	}
	var none Skips
	var stderr bytes.Buffer
	none.report(&stderr, env)
	if stderr.Len() != 0 {
		t.Errorf("no skip reported %q", stderr.String())
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("no skip created the report file")
	}

	var s Skips
	for range 3 {
		t.Run("needs-tool", func(t *testing.T) { s.Skip(t, "tool not found") })
	}
	s.report(&stderr, env)
	want := "SKIPPED in internal/testreport: 3 tests did not run: tool not found\n"
	if stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	s.report(&bytes.Buffer{}, env) // a second package's binary appends
	if b, _ := os.ReadFile(file); string(b) != want+want {
		t.Errorf("report file = %q, want the line twice", b)
	}
}

func TestWithout(t *testing.T) {
	t.Setenv(WithoutEnv, "chromium,postgresql")
	if !Without("chromium") || !Without("postgresql") || Without("curl") {
		t.Errorf("Without with %s=chromium,postgresql is wrong", WithoutEnv)
	}
}

// A missing tool skips the tests on a developer's machine but fails them
// in CI: only a CI variable that parses as true makes them mandatory.
func TestMandatoryInCI(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "": false, "false": false, "yes": false} {
		getenv := func(k string) string {
			if k == "CI" {
				return v
			}
			return ""
		}
		if got := Mandatory(getenv); got != want {
			t.Errorf("Mandatory with CI=%q = %v, want %v", v, got, want)
		}
	}
}
