package endpoints_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/router"
)

// The router's installed set for a color follows the real EndpointSlice
// controller: a scale-up, a pod replaced with a new address, a pod whose
// readiness probe fails and passes again; the control plane's table never
// changes meanwhile.
func TestRouterFollowsEndpointSlices(t *testing.T) {
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	ns := createNamespace(t, client, "follow")
	pods := newRunner(counting(netip.MustParseAddr("10.201.0.1"), 32), nil)
	cluster.StartKubelet(t, kubetest.KubeletOptions{Namespace: ns, Run: pods.run})
	createColor(t, client, ns, "shop-blue", 2)

	r, _ := follow(t, cluster, ns)
	blue := ref(ns, "shop-blue")
	table := router.Table{Generation: 3, Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: blue.String()}}
	if err := r.CheckTable(table); err != nil {
		t.Fatalf("CheckTable(%s) = %v", blue, err)
	}
	r.Install(table)
	running := func() []string {
		var out []string
		for _, p := range podsOf(t, client, ns, "shop-blue") {
			if a := pods.addrOf(p); a != "" {
				out = append(out, a)
			}
		}
		return out
	}
	addrsAre(t, r, blue, "two pods", running)

	scale(t, client, ns, "shop-blue", 3)
	addrsAre(t, r, blue, "a scale-up to three pods", func() []string {
		if a := running(); len(a) == 3 {
			return a
		}
		return nil
	})

	// A pod replaced: the ReplicaSet makes another, with a new address.
	victim := podsOf(t, client, ns, "shop-blue")[0]
	old := pods.addrOf(victim)
	if err := client.CoreV1().Pods(ns).Delete(t.Context(), victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	addrsAre(t, r, blue, "the replaced pod's new address", func() []string {
		if a := running(); len(a) == 3 && !slices.Contains(a, old) {
			return a
		}
		return nil
	})

	// A readiness probe failing takes the pod out; passing brings it back.
	sick := podsOf(t, client, ns, "shop-blue")[0]
	sickAddr := pods.addrOf(sick)
	if err := pods.setReady(t.Context(), sick, false); err != nil {
		t.Fatal(err)
	}
	addrsAre(t, r, blue, "the not-ready pod left out", func() []string {
		return slices.DeleteFunc(running(), func(a string) bool { return a == sickAddr })
	})
	if err := pods.setReady(t.Context(), sick, true); err != nil {
		t.Fatal(err)
	}
	addrsAre(t, r, blue, "the pod ready again", running)

	if got := r.Table(); got.Generation != 3 || got.Upstreams[router.Blue] != blue.String() {
		t.Errorf("Table() = %+v, want generation 3 unchanged", got)
	}
}

func scale(t *testing.T, client kubernetes.Interface, ns, name string, n int32) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, n))
	if _, err := client.AppsV1().Deployments(ns).Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("scale %s to %d: %v", name, n, err)
	}
}

// Endpoint conditions, on slices the test writes itself (a Service
// without selector, as the API allows), so that states the test's kubelet
// cannot produce — a pod terminating but still serving — are read as the
// API server stores them.
func TestResolveReadsEndpointConditions(t *testing.T) {
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	ns := createNamespace(t, client, "conditions")
	_, w := follow(t, cluster, ns)
	yes, no := new(true), new(false)
	ep := func(ip string, ready, serving, terminating *bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ready, Serving: serving, Terminating: terminating}}
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "manual-1", Labels: map[string]string{
			discoveryv1.LabelServiceName: "manual", discoveryv1.LabelManagedBy: "bascule-test"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(8080))},
			{Name: new("metrics"), Port: new(int32(9090))}},
		Endpoints: []discoveryv1.Endpoint{
			ep("10.202.0.1", yes, yes, no),
			ep("10.202.0.2", no, no, no),    // readiness probe failing
			ep("10.202.0.3", no, yes, yes),  // terminating, still serving
			ep("10.202.0.4", no, no, yes),   // terminating, no longer serving
			ep("10.202.0.5", nil, nil, nil), // no conditions: ready, says the API
		},
	}
	created, err := client.DiscoveryV1().EndpointSlices(ns).Create(t.Context(), slice, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create endpointslice: %v", err)
	}
	resolves := func(what string, r router.Ref, want ...string) {
		t.Helper()
		waitFor(t, what, func() (bool, string) {
			got, err := w.Resolve(r)
			return err == nil && slices.Equal(got, want), fmt.Sprintf("Resolve(%s) = %v, %v; want %v", r, got, err, want)
		})
	}
	manual := ref(ns, "manual")
	resolves("the ready endpoints only", manual, "10.202.0.1:8080", "10.202.0.5:8080")
	resolves("the port by number", router.Ref{Namespace: ns, Service: "manual", Port: "8080"}, "10.202.0.1:8080", "10.202.0.5:8080")
	resolves("the metrics port", router.Ref{Namespace: ns, Service: "manual", Port: "metrics"}, "10.202.0.1:9090", "10.202.0.5:9090")

	// The last ready ones start terminating: until they are gone, those
	// still serving take the requests rather than nobody.
	created.Endpoints[0] = ep("10.202.0.1", no, yes, yes)
	created.Endpoints[4] = ep("10.202.0.5", no, no, yes)
	if _, err := client.DiscoveryV1().EndpointSlices(ns).Update(t.Context(), created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	resolves("the serving terminating endpoints when none is ready", manual, "10.202.0.1:8080", "10.202.0.3:8080")

	if _, err := w.Resolve(router.Ref{Namespace: ns + "-other", Service: "manual", Port: "http"}); err == nil {
		t.Error("Resolve of another namespace = nil error, want one: the router watches one namespace")
	}
	if got, err := w.Resolve(ref(ns, "absent")); err != nil || got != nil {
		t.Errorf("Resolve(absent service) = %v, %v; want nothing and no error", got, err)
	}
}

// A router outside any cluster refuses a table with references, and says
// how to run it; it keeps serving the table it has.
func TestAgentWithoutKubernetesRefusesReferences(t *testing.T) {
	r := router.New(router.Options{})
	r.Install(router.Table{Generation: 1, Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: "10.0.0.1:8080"}})
	agent := fleet.NewAgent(fleet.AgentOptions{ID: "outside", Router: r, Path: t.TempDir() + "/routing.json"})
	up := fleet.Update{Table: router.Table{Generation: 2, Live: router.Blue,
		Upstreams: map[router.Color]string{router.Blue: "k8s:shop/shop-blue:http"}}}
	err := agent.Apply(up)
	if !errors.Is(err, router.ErrNoResolver) || !strings.Contains(err.Error(), "--kubernetes") {
		t.Fatalf("Apply(table with a reference) = %v, want an error wrapping ErrNoResolver that names --kubernetes", err)
	}
	if st := agent.State(); st.Installed != 1 {
		t.Errorf("installed generation = %d after the refusal, want 1", st.Installed)
	}
	if got := r.Table().Upstreams[router.Blue]; got != "10.0.0.1:8080" {
		t.Errorf("blue = %q after the refusal, want the previous table's", got)
	}
}

// End to end with real traffic to pods on addresses of the test's own
// network: the control plane's switch (a new generation through the
// fleet agent) sends every new request to green at once, and the switch
// is acknowledged drained only when the request in flight on blue's pod
// ends; a green pod replaced under load costs no request.
func TestSwitchDrainsPodsResolvedFromEndpointSlices(t *testing.T) {
	netnstest.Require(t)
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	nw := netnstest.New(t)
	var addrs []netip.Addr
	for range 6 {
		addrs = append(addrs, nw.AddAddr())
	}
	hold := make(chan struct{})
	var holdOnce sync.Once
	release := func() { holdOnce.Do(func() { close(hold) }) }
	t.Cleanup(release)
	slowStarted := make(chan struct{}, 1)
	pods := newRunner(addrs, func(pod string) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			slowStarted <- struct{}{}
			select {
			case <-hold:
			case <-r.Context().Done():
			}
			fmt.Fprint(w, pod)
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, pod) })
		return mux
	})
	ns := createNamespace(t, client, "switch")
	cluster.StartKubelet(t, kubetest.KubeletOptions{Namespace: ns, Run: pods.run})
	createColor(t, client, ns, "shop-blue", 1)
	createColor(t, client, ns, "shop-green", 2)

	r, _ := follow(t, cluster, ns)
	agent := fleet.NewAgent(fleet.AgentOptions{ID: "in-cluster", Router: r, Path: t.TempDir() + "/routing.json"})
	blue, green := ref(ns, "shop-blue"), ref(ns, "shop-green")
	table := func(gen int64, live router.Color) fleet.Update {
		return fleet.Update{DrainTimeoutMS: 60_000, Table: router.Table{Generation: gen, Live: live,
			Upstreams: map[router.Color]string{router.Blue: blue.String(), router.Green: green.String()}}}
	}
	if err := agent.Apply(table(1, router.Blue)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "blue's pod and green's two in the router", func() (bool, string) {
		b, g := r.Addrs(blue.String()), r.Addrs(green.String())
		return len(b) == 1 && len(g) == 2, fmt.Sprintf("blue %v, green %v", b, g)
	})
	base := serveRouter(t, r)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	if _, body, err := get(t.Context(), c, base+"/"); err != nil || !strings.HasPrefix(body, "shop-blue-") {
		t.Fatalf("GET / before the switch = %q, %v; want blue's pod", body, err)
	}

	slow := make(chan error, 1)
	go func() {
		_, body, err := get(context.Background(), c, base+"/slow")
		if err == nil && !strings.HasPrefix(body, "shop-blue-") {
			err = fmt.Errorf("answered by %q, want blue's pod", body)
		}
		slow <- err
	}()
	<-slowStarted
	if err := agent.Apply(table(2, router.Green)); err != nil {
		t.Fatal(err)
	}
	if st := agent.State(); st.Installed != 2 || st.Drained != 1 {
		t.Fatalf("with a request in flight on blue's pod, installed %d drained %d; want 2 and 1", st.Installed, st.Drained)
	}
	for range 20 {
		if _, body, err := get(t.Context(), c, base+"/"); err != nil || !strings.HasPrefix(body, "shop-green-") {
			t.Fatalf("GET / after the switch = %q, %v; want green", body, err)
		}
	}

	// A green pod replaced under load: the router follows the slices, and
	// the request that meets the stopped pod goes to the other one.
	var failed, served atomic.Int64
	stop := make(chan struct{})
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if status, body, err := get(t.Context(), c, base+"/"); err != nil || status != http.StatusOK || !strings.HasPrefix(body, "shop-green-") {
				failed.Add(1)
				t.Logf("during the pod's replacement: %d %q %v", status, body, err)
			}
			served.Add(1)
		}
	}()
	victim := podsOf(t, client, ns, "shop-green")[0]
	old := pods.addrOf(victim)
	if err := client.CoreV1().Pods(ns).Delete(t.Context(), victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "green's replaced pod in the router", func() (bool, string) {
		g := r.Addrs(green.String())
		return len(g) == 2 && !slices.Contains(g, old), fmt.Sprintf("green %v (old pod %s)", g, old)
	})
	close(stop)
	<-loaded
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed while a green pod was replaced, want 0", n, served.Load())
	}

	if st := agent.State(); st.Drained != 1 {
		t.Errorf("drained generation %d while blue's request is still in flight, want 1", st.Drained)
	}
	release()
	if err := <-slow; err != nil {
		t.Errorf("the request in flight on blue during the switch: %v", err)
	}
	waitFor(t, "the switch acknowledged drained", func() (bool, string) {
		st := agent.State()
		return st.Drained == 2, fmt.Sprintf("drained %d", st.Drained)
	})
}
