package server_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/kubernetes"
	"github.com/bascule/bascule/internal/server"
)

// TestKubernetesDriverAdoptsAtStart: with runtime.driver kubernetes,
// bascule serve connects through runtime.kubernetes.kubeconfig to a real
// API server and reports the color a previous run left there, found by
// label, as running.
func TestKubernetesDriverAdoptsAtStart(t *testing.T) {
	c := kubetest.Start(t)
	admin := c.Client(t)
	ctx := t.Context()
	const ns = "shop"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.StartKubelet(t, kubetest.KubeletOptions{Namespace: ns, Run: kubetest.ReadyPods(netip.MustParseAddr("10.200.9.1"))})

	// A previous bascule started v1 on blue.
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	prev, err := kubernetes.New(sctx, kubernetes.Options{Client: admin, Namespace: ns, App: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	const image = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	inst, err := prev.Start(sctx, runtime.Blue, runtime.Spec{Version: "v1", Image: image})
	prev.Close()
	if err != nil {
		t.Fatalf("Start v1 on blue: %v", err)
	}

	s := startServerWith(t, func(cfg *config.Config) {
		cfg.Runtime.Driver = config.DriverKube
		cfg.Runtime.Kubernetes.Namespace = ns
		cfg.Runtime.Kubernetes.Kubeconfig = c.Kubeconfig()
	})
	st, err := s.admin.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range st.Colors {
		running := cs.Color == runtime.Blue
		if cs.Running != running || (running && cs.Addr != inst.Addr) {
			t.Errorf("status of %s: running %v at %q; want running %v at %q", cs.Color, cs.Running, cs.Addr, running, inst.Addr)
		}
	}
}

// With the kubernetes driver, the router inside bascule serve expands the
// colors' references (what the driver publishes) from the EndpointSlices,
// as every router in the cluster does.
func TestKubernetesServeRouterResolvesReferences(t *testing.T) {
	c := kubetest.Start(t)
	admin := c.Client(t)
	ctx := t.Context()
	const ns = "shop"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.StartKubelet(t, kubetest.KubeletOptions{Namespace: ns, Run: kubetest.ReadyPods(netip.MustParseAddr("10.200.10.1"))})
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d, err := kubernetes.New(sctx, kubernetes.Options{Client: admin, Namespace: ns, App: "shop", Replicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	const image = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	inst, err := d.Start(sctx, runtime.Blue, runtime.Spec{Version: "v1", Image: image})
	d.Close()
	if err != nil {
		t.Fatalf("Start v1 on blue: %v", err)
	}

	s := startServerWith(t, func(cfg *config.Config) {
		cfg.Runtime.Driver = config.DriverKube
		cfg.Runtime.Kubernetes.Namespace = ns
		cfg.Runtime.Kubernetes.Kubeconfig = c.Kubeconfig()
	})
	r := server.RouterOf(s.srv)
	table := router.Table{Generation: 1, Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: inst.Upstream}}
	if err := r.CheckTable(table); err != nil {
		t.Fatalf("the embedded router's CheckTable(blue = %s) = %v, want nil", inst.Upstream, err)
	}
	r.Install(table)
	deadline := time.Now().Add(time.Minute)
	for !slices.Equal(r.Addrs(inst.Upstream), inst.Addresses()) {
		if time.Now().After(deadline) {
			t.Fatalf("the embedded router expands %s to %v, want the pods %v", inst.Upstream, r.Addrs(inst.Upstream), inst.Addresses())
		}
		time.Sleep(20 * time.Millisecond) // the watch's listing arrives on its own; nothing to wait on but its effect
	}
}
