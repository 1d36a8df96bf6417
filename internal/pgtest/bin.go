package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNotInstalled is returned by Launch when initdb or postgres cannot be
// found.
var ErrNotInstalled = errors.New("PostgreSQL not found: install postgresql (initdb and postgres on $PATH, " +
	"in /usr/lib/postgresql/*/bin, or in $PGTEST_BINDIR); these tests are mandatory in CI")

// binaries are the PostgreSQL programs the harness runs.
type binaries struct {
	initdb   string
	postgres string
}

// wellKnownDirs are where PostgreSQL is installed when it is not on $PATH:
// the source build's default prefix, then Debian's postgresql package.
func wellKnownDirs() []string {
	return append([]string{"/usr/local/pgsql/bin"}, debianBinDirs("/usr/lib/postgresql")...)
}

// findBinaries looks for initdb and postgres in the order documented in the
// package comment: $PGTEST_BINDIR, $PATH, then the fallback directories.
// getenv and fallback are parameters so tests can point the search at
// places of their own.
func findBinaries(getenv func(string) string, fallback []string) (binaries, error) {
	var dirs []string
	if d := getenv("PGTEST_BINDIR"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, filepath.SplitList(getenv("PATH"))...)
	dirs = append(dirs, fallback...)
	for _, d := range dirs {
		if b, ok := binariesIn(d); ok {
			return b, nil
		}
	}
	return binaries{}, ErrNotInstalled
}

// binariesIn returns the binaries of dir if both are there, with symbolic
// links resolved: initdb runs the postgres next to its real path, and so
// must we.
func binariesIn(dir string) (binaries, bool) {
	if dir == "" {
		return binaries{}, false
	}
	initdb, err := exec.LookPath(filepath.Join(dir, "initdb"))
	if err != nil {
		return binaries{}, false
	}
	real, err := filepath.EvalSymlinks(initdb)
	if err != nil {
		return binaries{}, false
	}
	postgres, err := exec.LookPath(filepath.Join(filepath.Dir(real), "postgres"))
	if err != nil {
		return binaries{}, false
	}
	return binaries{initdb: real, postgres: postgres}, true
}

// debianBinDirs lists root/*/bin, newest major version first.
func debianBinDirs(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var versions []string
	for _, e := range entries {
		if e.IsDir() {
			versions = append(versions, e.Name())
		}
	}
	sort.Slice(versions, func(i, j int) bool { return versionLess(versions[j], versions[i]) })
	dirs := make([]string, len(versions))
	for i, v := range versions {
		dirs[i] = filepath.Join(root, v, "bin")
	}
	return dirs
}

// versionLess orders "9.6" < "15" < "16" numerically, falling back to
// string order for names that are not versions.
func versionLess(a, b string) bool {
	na, errA := strconv.ParseFloat(a, 64)
	nb, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return strings.Compare(a, b) < 0
	}
	return na < nb
}

// String names the binaries for error messages.
func (b binaries) String() string { return fmt.Sprintf("initdb=%s postgres=%s", b.initdb, b.postgres) }
