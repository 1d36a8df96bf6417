package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeInstall writes executable initdb and postgres files into dir.
func fakeInstall(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	explicit := filepath.Join(root, "explicit")
	onPath := filepath.Join(root, "onpath")
	debian := filepath.Join(root, "debian")
	fakeInstall(t, explicit)
	fakeInstall(t, onPath)
	fakeInstall(t, filepath.Join(debian, "9.6", "bin"))
	fakeInstall(t, filepath.Join(debian, "16", "bin"))
	fakeInstall(t, filepath.Join(debian, "15", "bin"))
	// A directory of links, as /usr/local/bin here: postgres must come from
	// where initdb really is.
	links := filepath.Join(root, "links")
	os.Mkdir(links, 0o755)
	if err := os.Symlink(filepath.Join(debian, "15", "bin", "initdb"), filepath.Join(links, "initdb")); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	tests := []struct {
		name         string
		env          map[string]string
		fallback     []string
		wantPostgres string
	}{
		{"PGTEST_BINDIR first", map[string]string{"PGTEST_BINDIR": explicit, "PATH": onPath}, nil, filepath.Join(explicit, "postgres")},
		{"then PATH", map[string]string{"PATH": empty + ":" + onPath}, debianBinDirs(debian), filepath.Join(onPath, "postgres")},
		{"newest Debian version", map[string]string{"PATH": empty}, debianBinDirs(debian), filepath.Join(debian, "16", "bin", "postgres")},
		{"links resolved", map[string]string{"PATH": links}, nil, filepath.Join(debian, "15", "bin", "postgres")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findBinaries(env(tc.env), tc.fallback)
			if err != nil {
				t.Fatalf("findBinaries = %v", err)
			}
			if got.postgres != tc.wantPostgres {
				t.Errorf("findBinaries found postgres %s, want %s", got.postgres, tc.wantPostgres)
			}
		})
	}
}

func TestFindBinariesMissing(t *testing.T) {
	_, err := findBinaries(env(map[string]string{"PATH": t.TempDir()}), []string{"/nonexistent"})
	if !errors.Is(err, ErrNotInstalled) {
		t.Errorf("findBinaries with nothing installed = %v, want ErrNotInstalled", err)
	}
}
