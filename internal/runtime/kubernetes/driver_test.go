package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/runtime"
)

// These tests run the driver against a real kube-apiserver with the real
// Deployment, ReplicaSet and EndpointSlice controllers (internal/kubetest).
// The test plays the kubelet: it binds the pods to its Node and reports
// them Running (Ready or not) with addresses of 10.200.0.0/16; nothing
// listens there, and the driver never connects to them.

var kube kubetest.Shared

func TestMain(m *testing.M) {
	if os.Getenv(appEnv) == "1" {
		os.Exit(runApp(os.Args[2:]))
	}
	code := kube.Run(m)
	netnstest.Report()
	os.Exit(code)
}

const testImage = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// env is a namespace of the shared cluster with a kubelet stand-in that
// runs its pods with run, and deploy/kubernetes/rbac.yaml applied.
type env struct {
	client  k8s.Interface // the cluster's administrator, for the test's checks
	bascule k8s.Interface // the driver's: bascule's service account, as rbac.yaml binds it
	ns      string
}

func newEnv(t *testing.T, run kubetest.RunFunc) env {
	t.Helper()
	return newEnvWith(t, kubetest.KubeletOptions{Run: run})
}

// newEnvWith is newEnv with a kubelet stand-in configured by kopts.
func newEnvWith(t *testing.T, kopts kubetest.KubeletOptions) env {
	t.Helper()
	c := kube.Cluster(t)
	client := c.Client(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kd-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))}}
	ns.Name = ns.Name[:min(len(ns.Name), 63)]
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	kopts.Namespace = ns.Name
	c.StartKubelet(t, kopts)
	kubetest.ApplyRBAC(t, client, ns.Name)
	// The driver acts as bascule's service account: every test shows that
	// the manifest's namespace-scoped Role is enough.
	rc := rest.CopyConfig(c.Config())
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns.Name + ":bascule"}
	bascule, err := k8s.NewForConfig(rc)
	if err != nil {
		t.Fatalf("client as bascule's service account: %v", err)
	}
	return env{client: client, bascule: bascule, ns: ns.Name}
}

// driver starts a driver on the env's namespace, closed at the test's end.
func (e env) driver(t *testing.T, opts Options) *Driver {
	t.Helper()
	opts.Client, opts.Namespace = e.bascule, e.ns
	if opts.App == "" {
		opts.App = "shop"
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	d, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func spec(version string) runtime.Spec {
	return runtime.Spec{Version: version, Image: testImage, Env: []string{"LOG_LEVEL=info"}}
}

// notReady runs each pod without its readiness probe ever passing.
func notReady(first netip.Addr) kubetest.RunFunc {
	next := make(chan netip.Addr, 1)
	next <- first
	return func(ctx context.Context, pod *kubetest.Pod) {
		ip := <-next
		next <- ip.Next()
		pod.ReportRunning(ctx, ip, false)
		<-ctx.Done()
	}
}

// eventually waits for cond, up to a minute; what it last said is in the
// failure.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute; last: %s", what, state)
		}
		time.Sleep(50 * time.Millisecond) // polls the API server: there is no event to wait on here
	}
}

func TestStartReportsReadyPodsFromEndpointSlices(t *testing.T) {
	e := newEnv(t, kubetest.ReadyPods(netip.MustParseAddr("10.200.1.1")))
	d := e.driver(t, Options{Replicas: 2, Port: 9000})
	inst, err := d.Start(t.Context(), runtime.Blue, spec("v1"))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	addrs := d.Addrs(runtime.Blue)
	if len(addrs) != 2 || inst.Addr != addrs[0] || !strings.HasSuffix(inst.Addr, ":9000") || !strings.HasPrefix(inst.Addr, "10.200.1.") {
		t.Errorf("Start = %s, Addrs = %v; want the first of two ready pods 10.200.1.x:9000", inst.Addr, addrs)
	}
	if inst.Version != "v1" || inst.Color != runtime.Blue {
		t.Errorf("Start = %+v, want v1 on blue", inst)
	}
	// The routing table names the color's Service; routers expand it.
	if want := "k8s:" + e.ns + "/shop-blue:http"; inst.Upstream != want {
		t.Errorf("Start's Upstream = %q, want %q", inst.Upstream, want)
	}
	dep, err := e.client.AppsV1().Deployments(e.ns).Get(t.Context(), "shop-blue", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment: %v", err)
	}
	wantLabels := map[string]string{LabelApp: "shop", LabelManagedBy: "bascule", LabelColor: "blue", LabelRelease: "v1"}
	if diff := cmp.Diff(wantLabels, dep.Labels); diff != "" {
		t.Errorf("deployment labels (-want +got):\n%s", diff)
	}
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != testImage {
		t.Errorf("deployment image %q, want %q", got, testImage)
	}
	svc, err := e.client.CoreV1().Services(e.ns).Get(t.Context(), "shop-blue", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get service: %v", err)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || svc.Labels[LabelColor] != "blue" {
		t.Errorf("service: cluster IP %q, labels %v; want headless, labelled blue", svc.Spec.ClusterIP, svc.Labels)
	}
	if got, ok := d.Instance(runtime.Blue); !ok || got.Version != "v1" {
		t.Errorf("Instance(blue) = %+v, %v; want v1", got, ok)
	}
	if _, ok := d.Instance(runtime.Green); ok {
		t.Errorf("Instance(green) reported, want nothing: green never started")
	}
	// A second release on a running color is refused, as with the process driver.
	if _, err := d.Start(t.Context(), runtime.Blue, spec("v2")); !errors.Is(err, runtime.ErrBusy) {
		t.Errorf("Start(v2) on a running blue = %v, want runtime.ErrBusy", err)
	}
}

func TestStartRefusesAReleaseWithoutImageDigest(t *testing.T) {
	e := newEnv(t, kubetest.ReadyPods(netip.MustParseAddr("10.200.2.1")))
	d := e.driver(t, Options{})
	s := spec("v1")
	s.Image = "registry.example.com/shop:v1"
	if _, err := d.Start(t.Context(), runtime.Blue, s); err == nil || !strings.Contains(err.Error(), "not a digest reference") {
		t.Fatalf("Start with a tag = %v, want a refusal naming the digest", err)
	}
	if _, err := e.client.AppsV1().Deployments(e.ns).Get(t.Context(), "shop-blue", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get deployment after a refused start = %v, want not found", err)
	}
}

// A rollout whose pods never get ready fails with the cluster's word for
// why, and leaves no Deployment, Service or pod behind.
func TestFailedRolloutIsExplainedAndRemoved(t *testing.T) {
	e := newEnv(t, notReady(netip.MustParseAddr("10.200.3.1")))
	d := e.driver(t, Options{Replicas: 2, StartTimeout: 3 * time.Second, StopTimeout: time.Second})
	_, err := d.Start(t.Context(), runtime.Green, spec("v2"))
	if !errors.Is(err, ErrRolloutFailed) {
		t.Fatalf("Start = %v, want ErrRolloutFailed", err)
	}
	msg := err.Error()
	t.Logf("Start's error, as a failed deployment shows it:\n%s", msg)
	for _, want := range []string{"ProgressDeadlineExceeded", "events:", "Deployment/shop-green: ScalingReplicaSet", "pods:",
		"Running, not ready (release v2)", "logs:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Start error lacks %q:\n%s", want, msg)
		}
	}
	if _, err := e.client.AppsV1().Deployments(e.ns).Get(t.Context(), "shop-green", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get deployment after a failed rollout = %v, want not found", err)
	}
	if _, err := e.client.CoreV1().Services(e.ns).Get(t.Context(), "shop-green", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get service after a failed rollout = %v, want not found", err)
	}
	// Start waited for the scale-down to be seen; the kubelet stand-in
	// then removes each terminating pod.
	sel := labels.SelectorFromSet(labels.Set{LabelApp: "shop"}).String()
	eventually(t, "no pod left", func() (bool, string) {
		pods, err := e.client.CoreV1().Pods(e.ns).List(t.Context(), metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return false, err.Error()
		}
		return len(pods.Items) == 0, fmt.Sprintf("%d pods", len(pods.Items))
	})
	if _, ok := d.Instance(runtime.Green); ok {
		t.Error("Instance(green) after a failed rollout reported, want nothing")
	}
}

// A restarted bascule finds the colors by label, with their releases and
// addresses.
func TestAdoptByLabel(t *testing.T) {
	e := newEnv(t, kubetest.ReadyPods(netip.MustParseAddr("10.200.4.1")))
	first := e.driver(t, Options{Replicas: 2})
	inst, err := first.Start(t.Context(), runtime.Green, spec("v7"))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	addrs := first.Addrs(runtime.Green)
	first.Close()

	next := e.driver(t, Options{Replicas: 2})
	adopted, err := next.Adopt(t.Context())
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	want := []runtime.Instance{{Color: runtime.Green, Version: "v7", Addr: inst.Addr, Addrs: inst.Addrs, Upstream: inst.Upstream, Started: inst.Started}}
	if diff := cmp.Diff(want, adopted); diff != "" {
		t.Errorf("Adopt (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(addrs, next.Addrs(runtime.Green)); diff != "" {
		t.Errorf("Addrs after adoption (-before +after):\n%s", diff)
	}
	// Starting the adopted release again only waits for it; another one is refused.
	if _, err := next.Start(t.Context(), runtime.Green, spec("v7")); err != nil {
		t.Errorf("Start of the adopted release = %v, want it reported as running", err)
	}
}

// Stop scales to zero at once and keeps the objects, so the color can be
// started again; its exit channel closes.
func TestStopScalesToZero(t *testing.T) {
	e := newEnv(t, kubetest.ReadyPods(netip.MustParseAddr("10.200.5.1")))
	d := e.driver(t, Options{StopTimeout: time.Second})
	if _, err := d.Start(t.Context(), runtime.Blue, spec("v1")); err != nil {
		t.Fatalf("Start: %v", err)
	}
	exited := d.Exited(runtime.Blue)
	if err := d.Stop(t.Context(), runtime.Blue); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("Exited(blue) not closed 30s after Stop")
	}
	eventually(t, "blue scaled to zero, its endpoints gone", func() (bool, string) {
		dep, err := e.client.AppsV1().Deployments(e.ns).Get(t.Context(), "shop-blue", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return *dep.Spec.Replicas == 0 && dep.Status.Replicas == 0 && len(d.Addrs(runtime.Blue)) == 0,
			fmt.Sprintf("replicas %d, pods %d, addrs %v", *dep.Spec.Replicas, dep.Status.Replicas, d.Addrs(runtime.Blue))
	})
	if _, ok := d.Instance(runtime.Blue); ok {
		t.Error("Instance(blue) after Stop reported, want nothing")
	}
	inst, err := d.Start(t.Context(), runtime.Blue, spec("v2"))
	if err != nil || inst.Version != "v2" {
		t.Fatalf("Start(v2) after Stop = %+v, %v; want v2 running", inst, err)
	}
	if err := d.Stop(t.Context(), runtime.Green); err != nil {
		t.Errorf("Stop of a color never started = %v, want nil", err)
	}
}

// ScaleDownLater keeps the idle color warm for the delay, then scales it
// to zero, even across a restart of bascule; it never takes the live
// color.
func TestIdleScaleDownAfterDelay(t *testing.T) {
	const delay = 2 * time.Second
	e := newEnv(t, kubetest.ReadyPods(netip.MustParseAddr("10.200.6.1")))
	live := func() string { return runtime.Green }
	first := e.driver(t, Options{IdleScaleDown: delay, StopTimeout: time.Second, Live: live})
	for _, c := range runtime.Colors() {
		if _, err := first.Start(t.Context(), c, spec("v1-"+c)); err != nil {
			t.Fatalf("Start %s: %v", c, err)
		}
	}
	asked := time.Now()
	for _, c := range runtime.Colors() {
		if err := first.ScaleDownLater(t.Context(), c); err != nil {
			t.Fatalf("ScaleDownLater(%s): %v", c, err)
		}
	}
	// bascule restarts while the promise runs: the next one keeps it.
	first.Close()
	next := e.driver(t, Options{IdleScaleDown: delay, StopTimeout: time.Second, Live: live})
	if _, err := next.Adopt(t.Context()); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	replicas := func(color string) (int32, string) {
		dep, err := e.client.AppsV1().Deployments(e.ns).Get(t.Context(), "shop-"+color, metav1.GetOptions{})
		if err != nil {
			return -1, ""
		}
		return *dep.Spec.Replicas, dep.Annotations[AnnotationScaleDownAt]
	}
	eventually(t, "idle blue scaled to zero", func() (bool, string) {
		n, at := replicas(runtime.Blue)
		return n == 0, fmt.Sprintf("replicas %d, scale-down at %q", n, at)
	})
	if waited := time.Since(asked); waited < delay {
		t.Errorf("blue scaled down %s after ScaleDownLater, want after about %s", waited, delay)
	}
	eventually(t, "the live green's promise withdrawn", func() (bool, string) {
		n, at := replicas(runtime.Green)
		return at == "" && n == 1, fmt.Sprintf("replicas %d, scale-down at %q", n, at)
	})
}
