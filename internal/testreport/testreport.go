// Package testreport makes a skipped test suite visible in a normal
// `make test`. go test shows a passing package's output only with -v, so a
// test skipped because PostgreSQL or Chromium is missing would pass
// unnoticed as "ok": a Skips records such skips and, once the package's
// tests ran, writes one line on stderr and appends the same line to the
// file named by $BASCULE_SKIP_REPORT, which `make test` prints at the end.
//
// It is test support: only _test.go files and the test-support packages
// (pgtest, kubetest, netnstest) import it.
package testreport

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ReportEnv names the file skipped suites are appended to.
const ReportEnv = "BASCULE_SKIP_REPORT"

// WithoutEnv lists tools ("chromium", "postgresql", comma-separated) the
// suites are to behave as if missing: how the skip report itself is tested
// on a machine that has them.
const WithoutEnv = "BASCULE_TEST_WITHOUT"

// Mandatory reports whether getenv says CI is true: there a suite that
// misses a tool (PostgreSQL, Chromium, Kubernetes, network namespaces)
// fails instead of skipping.
func Mandatory(getenv func(string) string) bool {
	ci, err := strconv.ParseBool(getenv("CI"))
	return err == nil && ci
}

// Without reports whether $BASCULE_TEST_WITHOUT names tool.
func Without(tool string) bool {
	return slices.Contains(strings.Split(os.Getenv(WithoutEnv), ","), tool)
}

// Skips counts the tests of one suite skipped for want of a tool. Its zero
// value is ready to use; it is safe for concurrent use.
type Skips struct {
	mu     sync.Mutex
	n      int
	reason string
}

// Skip records t's skip and skips it with a message no one can miss in
// -v output.
func (s *Skips) Skip(t testing.TB, reason string) {
	t.Helper()
	s.mu.Lock()
	s.n++
	s.reason = reason
	s.mu.Unlock()
	t.Skipf("\n\n    !!! SKIPPED: %s !!!\n", reason)
}

// Report writes the line for the skipped tests, if any, to stderr and
// appends it to $BASCULE_SKIP_REPORT. TestMain calls it after m.Run.
func (s *Skips) Report() { s.report(os.Stderr, os.Getenv) }

func (s *Skips) report(stderr io.Writer, getenv func(string) string) {
	s.mu.Lock()
	n, reason := s.n, s.reason
	s.mu.Unlock()
	if n == 0 {
		return
	}
	tests := "tests"
	if n == 1 {
		tests = "test"
	}
	line := fmt.Sprintf("SKIPPED in %s: %d %s did not run: %s\n", packageDir(), n, tests, reason)
	fmt.Fprint(stderr, line)
	if path := getenv(ReportEnv); path != "" {
		if err := appendLine(path, line); err != nil {
			fmt.Fprintf(stderr, "testreport: %v\n", err)
		}
	}
}

// appendLine appends one short line: O_APPEND writes this small are not
// interleaved with those of the other packages' test binaries.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	_, err = io.WriteString(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// packageDir names the package under test: go test runs its binary in the
// package's directory, which is named relative to the module's root.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Base(os.Args[0])
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil {
				return filepath.ToSlash(rel)
			}
			return wd
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
