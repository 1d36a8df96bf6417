package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseKubernetes(t *testing.T) {
	const in = `app: shop
runtime:
  driver: kubernetes
  kubernetes:
    namespace: shop
    replicas: 3
    idle_scale_down: 0s
    container:
      port: 9000
      env: {DATABASE_URL: "postgres://db/shop"}
      resources: {requests: {cpu: 100m, memory: 1.5Gi}, limits: {cpu: 1}}
`
	got, err := parse("b.yaml", []byte(in), env(nil))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := Kubernetes{Namespace: "shop", Replicas: 3, IdleScaleDown: 0, Container: Container{Port: 9000,
		Env:      map[string]string{"DATABASE_URL": "postgres://db/shop"},
		Requests: map[string]string{"cpu": "100m", "memory": "1.5Gi"}, Limits: map[string]string{"cpu": "1"}}}
	if got.Runtime.Driver != DriverKube {
		t.Errorf("runtime.driver = %q, want %q", got.Runtime.Driver, DriverKube)
	}
	if diff := cmp.Diff(want, got.Runtime.Kubernetes); diff != "" {
		t.Errorf("runtime.kubernetes mismatch (-want +got):\n%s", diff)
	}
}

func TestKubernetesDefaults(t *testing.T) {
	got, err := parse("b.yaml", []byte("runtime: {driver: kubernetes, kubernetes: {namespace: shop}}\n"), env(nil))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := Kubernetes{Namespace: "shop", Replicas: 1, IdleScaleDown: 10 * time.Minute, Container: Container{Port: 8080}}
	if diff := cmp.Diff(want, got.Runtime.Kubernetes); diff != "" {
		t.Errorf("defaults mismatch (-want +got):\n%s", diff)
	}
}

func TestParseKubernetesInvalid(t *testing.T) {
	const head = "runtime:\n  driver: kubernetes\n  kubernetes:\n"
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"no namespace", "runtime: {driver: kubernetes}\n",
			[]string{`b.yaml:1: runtime.kubernetes.namespace: required when runtime.driver is kubernetes, e.g. "shop"`}},
		{"namespace with capitals", head + "    namespace: Shop\n",
			[]string{`b.yaml:4: runtime.kubernetes.namespace: "Shop" is not a Kubernetes namespace name (lowercase letters, digits and "-", at most 63)`}},
		{"app not a DNS label", "app: My_Shop\n" + head + "    namespace: shop\n",
			[]string{`b.yaml:1: app: "My_Shop" cannot name Kubernetes objects "My_Shop-blue" and "My_Shop-green": use lowercase letters, digits and "-", at most 57 characters`}},
		{"zero replicas and a bad port", head + "    namespace: shop\n    replicas: 0\n    container: {port: 70000}\n",
			[]string{
				`b.yaml:5: runtime.kubernetes.replicas: must be at least 1, got 0`,
				`b.yaml:6: runtime.kubernetes.container.port: must be a port from 1 to 65535, got 70000`,
			}},
		{"reserved env and a bad quantity", head + "    namespace: shop\n    container:\n      env:\n        PORT: 1\n      resources:\n        limits: {memory: 1GB}\n",
			[]string{
				`b.yaml:7: runtime.kubernetes.container.env.PORT: PORT is set by bascule for each release; remove it`,
				`b.yaml:9: runtime.kubernetes.container.resources.limits.memory: "1GB" is not a resource quantity such as "250m", "1" or "128Mi"`,
			}},
		{"negative idle scale-down", head + "    namespace: shop\n    idle_scale_down: -1s\n",
			[]string{`b.yaml:5: runtime.kubernetes.idle_scale_down: must be 0 (at once) or more, got -1s`}},
		{"unknown key", head + "    namespace: shop\n    replica: 2\n",
			[]string{`b.yaml:5: unknown key "replica" in runtime.kubernetes (did you mean "replicas"?)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("b.yaml", []byte(tc.yaml), env(nil))
			if err == nil {
				t.Fatalf("parse(%q) = nil error, want %q", tc.yaml, tc.want)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("parse(%q) errors (-want +got):\n%s", tc.yaml, diff)
			}
		})
	}
}

// The kubernetes section is checked only when it is the driver in use: a
// process config may keep an unfinished one.
func TestKubernetesIgnoredForProcess(t *testing.T) {
	if _, err := parse("b.yaml", []byte(cmdOK+"app: Not_A_Label\n"), env(nil)); err != nil {
		t.Errorf("parse = %v, want nil (the kubernetes driver is not in use)", err)
	}
}
