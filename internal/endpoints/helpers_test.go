package endpoints_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bascule/bascule/internal/endpoints"
	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/router"
)

var kube kubetest.Shared

func TestMain(m *testing.M) {
	code := kube.Run(m)
	netnstest.Report()
	os.Exit(code)
}

// image is what the Deployments ask for; the test's kubelet runs no image.
const image = "registry.example.com/shop@sha256:0000000000000000000000000000000000000000000000000000000000000000"

func createNamespace(t *testing.T, client kubernetes.Interface, name string) string {
	t.Helper()
	// A generated name: with -count the tests run again on the same cluster.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-"}}
	created, err := client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return created.Name
}

// createColor creates the headless Service and the Deployment of one
// color, as the kubernetes driver does (port "http", 8080).
func createColor(t *testing.T, client kubernetes.Interface, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app.kubernetes.io/name": "shop", "bascule.dev/color": name}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: labels,
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	}
	if _, err := client.CoreV1().Services(ns).Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
			},
		},
	}
	if _, err := client.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s: %v", name, err)
	}
}

// podRunner is the container runtime behind the test's kubelet: each pod
// gets the next of its addresses and, when serve is set, a real HTTP
// server on port 8080 there, stopped gracefully (requests in flight
// finish) when the pod is deleted. It reports each pod Running and Ready.
type podRunner struct {
	serve func(pod string) http.Handler // nil: nothing listens

	mu    sync.Mutex
	free  []netip.Addr
	ready map[string]podAddr // by pod name, while it runs
}

type podAddr struct {
	pod *kubetest.Pod
	ip  netip.Addr
}

func newRunner(addrs []netip.Addr, serve func(pod string) http.Handler) *podRunner {
	return &podRunner{serve: serve, free: addrs, ready: map[string]podAddr{}}
}

// counting returns n addresses from first up, where nothing listens.
func counting(first netip.Addr, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i], first = first, first.Next()
	}
	return out
}

func (p *podRunner) run(ctx context.Context, pod *kubetest.Pod) {
	p.mu.Lock()
	if len(p.free) == 0 {
		p.mu.Unlock()
		return // no address left: the pod stays pending, and the test says so by waiting in vain
	}
	ip := p.free[0]
	p.free = p.free[1:]
	p.mu.Unlock()
	if p.serve != nil {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "8080"))
		if err != nil {
			return
		}
		srv := &http.Server{Handler: p.serve(pod.Name)}
		go srv.Serve(ln)
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}()
	}
	if err := pod.ReportRunning(ctx, ip, true); err != nil {
		return
	}
	p.mu.Lock()
	p.ready[pod.Name] = podAddr{pod, ip}
	p.mu.Unlock()
	<-ctx.Done()
	p.mu.Lock()
	delete(p.ready, pod.Name)
	p.mu.Unlock()
}

// addrOf returns the "ip:8080" of a running pod.
func (p *podRunner) addrOf(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pa, ok := p.ready[name]; ok {
		return net.JoinHostPort(pa.ip.String(), "8080")
	}
	return ""
}

// setReady reports a running pod's readiness probe passing or failing.
func (p *podRunner) setReady(ctx context.Context, name string, ready bool) error {
	p.mu.Lock()
	pa, ok := p.ready[name]
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("pod %s does not run", name)
	}
	return pa.pod.ReportRunning(ctx, pa.ip, ready)
}

// podsOf returns the names of the pods of a color's Deployment that exist
// and are not being deleted, sorted.
func podsOf(t *testing.T, client kubernetes.Interface, ns, color string) []string {
	t.Helper()
	list, err := client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "bascule.dev/color=" + color})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

// asRouter applies deploy/kubernetes/rbac.yaml to ns and returns a client
// acting as the routers' service account there, so that every test shows
// the manifest's Role is enough.
func asRouter(t *testing.T, cluster *kubetest.Cluster, ns string) kubernetes.Interface {
	t.Helper()
	kubetest.ApplyRBAC(t, cluster.Client(t), ns)
	rc := rest.CopyConfig(cluster.Config())
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":bascule-router"}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// follow starts a watcher of ns, as the routers' service account, and a
// router over it, kept up to date until the test ends: what `bascule
// router --kubernetes` wires.
func follow(t *testing.T, cluster *kubetest.Cluster, ns string) (*router.Router, *endpoints.Watcher) {
	t.Helper()
	w, err := endpoints.Start(endpoints.Options{Client: asRouter(t, cluster, ns), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := w.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	r := router.New(router.Options{Resolver: w})
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(rctx, r.Refresh)
	}()
	t.Cleanup(func() { stop(); <-done })
	return r, w
}

func ref(ns, service string) router.Ref {
	return router.Ref{Namespace: ns, Service: service, Port: "http"}
}

// waitFor checks cond every 20ms until it holds, or fails the test after a
// minute with what cond last said.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute; last: %s", what, state)
		}
		<-tick.C
	}
}

// addrsAre waits until the router's installed set for ref is want.
func addrsAre(t *testing.T, r *router.Router, ref router.Ref, what string, want func() []string) {
	t.Helper()
	waitFor(t, what, func() (bool, string) {
		got, w := r.Addrs(ref.String()), want()
		slices.Sort(w)
		return len(w) > 0 && slices.Equal(got, w), fmt.Sprintf("router has %v, want %v", got, w)
	})
}

// get fetches url through the router and returns the status and body.
func get(ctx context.Context, c *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// serveRouter serves r on a loopback port until the test ends and returns
// its URL.
func serveRouter(t *testing.T, r *router.Router) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.NewServer(ln.Addr().String(), r)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve router: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
