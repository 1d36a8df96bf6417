package kubetest

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
)

// Version is the Kubernetes release whose binaries the tests run; the cache
// directory scripts/kube-testenv.sh fills is named after it.
const Version = "1.37.2"

// AssetsEnv names the directory holding etcd, kube-apiserver and
// kube-controller-manager, overriding the default cache directory. The
// script reads the same variable.
const AssetsEnv = "BASCULE_KUBE_ASSETS"

// ErrNotInstalled is returned by Launch when the binaries are not in the
// cache directory.
var ErrNotInstalled = errors.New("the Kubernetes test binaries are not installed: run scripts/kube-testenv.sh " +
	"(a cold build takes about 15 minutes on 2 cores, then it is cached); these tests are mandatory in CI")

// binaries are the programs of the control plane the harness runs.
type binaries struct {
	etcd              string
	apiserver         string
	controllerManager string
}

// assetsDir is where scripts/kube-testenv.sh installs the binaries:
// $BASCULE_KUBE_ASSETS, else the user's cache directory
// (${XDG_CACHE_HOME:-$HOME/.cache}/bascule/kube-vVERSION).
func assetsDir(getenv func(string) string) string {
	if d := getenv(AssetsEnv); d != "" {
		return d
	}
	cache := getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(getenv("HOME"), ".cache")
	}
	return filepath.Join(cache, "bascule", "kube-v"+Version)
}

// findBinaries returns the three programs of dir, or an error wrapping
// ErrNotInstalled naming the first one missing.
func findBinaries(dir string) (binaries, error) {
	var b binaries
	for _, p := range []struct {
		name string
		dst  *string
	}{{"etcd", &b.etcd}, {"kube-apiserver", &b.apiserver}, {"kube-controller-manager", &b.controllerManager}} {
		path, err := exec.LookPath(filepath.Join(dir, p.name))
		if err != nil {
			return binaries{}, fmt.Errorf("%s not in %s: %w", p.name, dir, ErrNotInstalled)
		}
		*p.dst = path
	}
	return b, nil
}
