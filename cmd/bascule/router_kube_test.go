package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The Kubernetes options of bascule router say what is missing or
// contradictory before anything starts.
func TestRouterKubernetesOptionsAreChecked(t *testing.T) {
	data := t.TempDir()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	base := []string{"router", "--control", "http://127.0.0.1:1", "--token", "t", "--data", data, "--listen", "127.0.0.1:0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--namespace", "shop"}, "--namespace needs --kubernetes"},
		{[]string{"--kubernetes", "--kubeconfig", kubeconfig}, "exclude each other"},
		{[]string{"--kubeconfig", kubeconfig}, "--namespace is required with --kubeconfig"},
		{[]string{"--kubeconfig", kubeconfig, "--namespace", "shop"}, "kubernetes config " + kubeconfig},
	} {
		out, code := runArgs(append(base, tc.args...)...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("bascule router %s = %d %q, want a failure saying %q", strings.Join(tc.args, " "), code, out, tc.want)
		}
	}
}
