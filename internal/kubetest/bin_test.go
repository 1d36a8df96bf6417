package kubetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// The tests look where scripts/kube-testenv.sh installs.
func TestAssetsDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"override", map[string]string{AssetsEnv: "/opt/kube", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/opt/kube"},
		{"XDG cache", map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/bascule/kube-v1.37.2"},
		{"home cache", map[string]string{"HOME": "/h"}, "/h/.cache/bascule/kube-v1.37.2"},
	}
	for _, tc := range tests {
		if got := assetsDir(env(tc.env)); got != tc.want {
			t.Errorf("%s: assetsDir = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestFindBinariesMissing(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"etcd", "kube-apiserver"} { // no controller manager
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := findBinaries(dir)
	if !errors.Is(err, ErrNotInstalled) {
		t.Errorf("findBinaries without kube-controller-manager = %v, want ErrNotInstalled", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kube-controller-manager"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := findBinaries(dir); err != nil {
		t.Errorf("findBinaries with all three = %v", err)
	}
}
