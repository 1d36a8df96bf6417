package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/sampleapp"
	"github.com/bascule/bascule/internal/store"
)

// kubeAppEnv, in an image's environment (kubetest.Image.Env), makes the
// test binary that image's program: the sample app's handler on $PORT of
// every address of the pod (its own IP), reporting $BASCULE_RELEASE, which
// the kubernetes driver sets. `bascule sample-app` itself listens on
// 127.0.0.1 only (the process driver's case), which a pod's probe and the
// routers cannot reach. More of the image's environment makes a broken
// release:
//
//	KUBE_APP_UNHEALTHY=1      /healthz answers 503: never ready
//	KUBE_APP_READY_FILE=PATH  /healthz answers 503 until PATH exists
//	KUBE_APP_FAIL=N           N per mille of the other requests answer 500
//
// Every answer carries X-Served-At (Unix nanoseconds): the pods run on
// this machine's clock, so the test knows when a release last served a
// request (fleetLoad.lastServed).
const kubeAppEnv = "BASCULE_E2E_KUBE_APP"

func runKubeApp() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	release := os.Getenv("BASCULE_RELEASE")
	app := sampleapp.Handler(sampleapp.Options{Release: release, Color: os.Getenv("BASCULE_COLOR")})
	readyFile := os.Getenv("KUBE_APP_READY_FILE")
	fail, _ := strconv.ParseInt(os.Getenv("KUBE_APP_FAIL"), 10, 64)
	var said atomic.Bool // the first refused probe is logged, for the diagnosis
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-At", strconv.FormatInt(time.Now().UnixNano(), 10))
		if r.URL.Path == "/healthz" {
			if why := notReady(readyFile); why != "" {
				if said.CompareAndSwap(false, true) {
					fmt.Printf("release %s: not ready: %s\n", release, why)
				}
				w.Header().Set("X-Release", release)
				http.Error(w, why, http.StatusServiceUnavailable)
				return
			}
		} else if rand.Int64N(1000) < fail {
			w.Header().Set("X-Release", release)
			http.Error(w, release+" is broken", http.StatusInternalServerError)
			return
		}
		app.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", ":"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube app:", err)
		return 1
	}
	fmt.Printf("release %s listening on %s\n", release, ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	fmt.Printf("release %s stopped\n", release)
	return 0
}

// notReady says why the app must not be ready yet, or "".
func notReady(readyFile string) string {
	if os.Getenv("KUBE_APP_UNHEALTHY") == "1" {
		return "unhealthy on purpose"
	}
	if _, err := os.Stat(readyFile); readyFile != "" && err != nil {
		return "waiting for " + readyFile
	}
	return ""
}

// The images of the kubernetes end-to-end test: each stands for the test
// binary run as kubeAppEnv says.
const (
	imageV1    = "registry.example.com/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	imageV2    = "registry.example.com/shop@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	imageBad   = "registry.example.com/shop@sha256:3333333333333333333333333333333333333333333333333333333333333333"
	imageGated = "registry.example.com/shop@sha256:4444444444444444444444444444444444444444444444444444444444444444"
	imageFlaky = "registry.example.com/shop@sha256:5555555555555555555555555555555555555555555555555555555555555555"
)

// kubeEnv is the expensive setup the kubernetes end-to-end test shares: a
// real API server and controllers, the test's kubelet stand-in running the
// pods as processes with their own IPs, `bascule serve` with the
// kubernetes driver, and two `bascule router` processes.
type kubeEnv struct {
	in        *instance
	admin     kubernetes.Interface
	ns        string
	routers   []*routerProc
	addrs     []string
	readyFile string // the gated image is ready once it exists
}

func newKubeEnv(t *testing.T) *kubeEnv {
	t.Helper()
	netnstest.Require(t) // a loud skip without root or iproute2, a failure with CI=true
	cluster := kubetest.Start(t)
	admin := cluster.Client(t)
	e := &kubeEnv{admin: admin, ns: "shop-e2e", readyFile: filepath.Join(t.TempDir(), "v4-may-be-ready")}
	ctx := t.Context()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The pods are on a bridge whose gateway is an address of this
	// (root) namespace: bascule serve's health checks and the routers
	// reach the pods' IPs directly, as in a cluster's pod network.
	nw := netnstest.New(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	image := func(env ...string) kubetest.Image {
		return kubetest.Image{Entrypoint: []string{self, "-test.run=^$"}, Env: append([]string{kubeAppEnv + "=1"}, env...)}
	}
	runner := kubetest.NewPodRunner(t, kubetest.PodRunnerOptions{Network: nw, RestartBackoff: 200 * time.Millisecond,
		Images: map[string]kubetest.Image{
			imageV1:    image(),
			imageV2:    image(),
			imageBad:   image("KUBE_APP_UNHEALTHY=1"),
			imageGated: image("KUBE_APP_READY_FILE=" + e.readyFile),
			imageFlaky: image("KUBE_APP_FAIL=300"),
		}})
	cluster.StartKubelet(t, kubetest.KubeletOptions{Namespace: e.ns, NodeIP: nw.AddAddr(), Run: runner.Run, Logs: runner})

	e.in = newKubeInstance(t, cluster.Kubeconfig(), e.ns)
	e.in.start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bascule serve said:\n%s", e.in.stderr)
		}
	})
	_, token, err := e.in.cl.CreateToken(ctx, "edge", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		r := startKubeRouter(t, id, "http://"+e.in.control, token, cluster.Kubeconfig(), e.ns)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("router %s said:\n%s", r.id, r.out)
			}
		})
		e.routers = append(e.routers, r)
	}
	e.addrs = addrsOf(e.routers)
	return e
}

// startKubeRouter starts one of the fleet's `bascule router` processes, in
// this (root) network namespace, from where the pods' IPs are reachable.
// It is the one place that says how the test's routers find the pods: as
// routers in the cluster do, each follows the namespace's EndpointSlices
// itself and expands the colors' Service references the control plane
// routes to.
func startKubeRouter(t *testing.T, id, control, token, kubeconfig, ns string) *routerProc {
	t.Helper()
	return startRouterProc(t, id, control, token, t.TempDir(), "--kubeconfig", kubeconfig, "--namespace", ns)
}

// newKubeInstance is bascule serve with the kubernetes driver on namespace
// ns of the cluster of kubeconfig, two pods per color, and the guard on.
func newKubeInstance(t *testing.T, kubeconfig, ns string) *instance {
	t.Helper()
	dir := t.TempDir()
	in := &instance{t: t, dir: dir, listen: freeAddr(t), control: freeAddr(t)}
	in.config = filepath.Join(dir, "bascule.yaml")
	yaml := fmt.Sprintf(`app: shop
listen: %s
control: %s
data_dir: %s
preview:
  hosts: [preview.localhost]
  token: %s
runtime:
  driver: kubernetes
  kubernetes:
    namespace: %s
    kubeconfig: %s
    replicas: 2
    container:
      port: 8080
health_check:
  path: /healthz
  interval: 200ms
  start_timeout: 10s
drain_timeout: 5s
stop_timeout: 2s
guard:
  window: 1m
`, in.listen, in.control, filepath.Join(dir, "data"), previewToken, ns, kubeconfig)
	if err := os.WriteFile(in.config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	in.cl = &client.Client{BaseURL: "http://" + in.control, Token: adminToken}
	return in
}

// addImage registers version as image with `bascule release add --image`.
func (e *kubeEnv) addImage(t *testing.T, version, image string) {
	t.Helper()
	out, code := runCLI(t, e.in, "release", "add", version, "--image", image)
	if code != 0 || !strings.Contains(out, "release registered "+version) {
		t.Fatalf("release add %s --image = %d %q", version, code, out)
	}
}

// deploy deploys version and follows it to its end, for a minute at
// most.
func (e *kubeEnv) deploy(t *testing.T, version string) store.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	d, err := e.in.cl.Deploy(ctx, version, "kubernetes test")
	if err != nil {
		t.Fatalf("Deploy(%s) = %v", version, err)
	}
	if err := e.in.cl.Follow(ctx, d.ID, func(u store.Deployment) { d = u }); err != nil {
		t.Fatalf("follow the deployment of %s: %v (last seen %s)", version, err, d.State)
	}
	return d
}

// deployReady deploys version and fails t unless it ends ready.
func (e *kubeEnv) deployReady(t *testing.T, version string) store.Deployment {
	t.Helper()
	start := time.Now()
	d := e.deploy(t, version)
	if d.State != store.StateReady {
		t.Fatalf("deploy %s ended %s: %s", version, d.State, d.Error)
	}
	t.Logf("deploy %s: ready on %s after %s", version, d.Color, time.Since(start).Round(time.Millisecond))
	return d
}

// inStep waits until both routers installed and drained the newest
// routing generation.
func (e *kubeEnv) inStep(t *testing.T) {
	t.Helper()
	waitFor(t, 20*time.Second, "both routers in step", func() bool { return confirmed(t, e.in.cl, "r1", "r2") })
}

// throughEach sends a request through each router and fails t unless
// every one answers 200 from release.
func (e *kubeEnv) throughEach(t *testing.T, release string, header ...string) {
	t.Helper()
	for _, r := range e.routers {
		if rel, code := get(t, http.DefaultClient, "http://"+r.listen+"/", header...); rel != release || code != http.StatusOK {
			t.Errorf("router %s %v answers %d from %q, want 200 from %s", r.id, header, code, rel, release)
		}
	}
}

// podsOf lists the namespace's pods of release.
func (e *kubeEnv) podsOf(t *testing.T, release string) []corev1.Pod {
	t.Helper()
	pods, err := e.admin.CoreV1().Pods(e.ns).List(t.Context(), metav1.ListOptions{LabelSelector: "bascule.dev/release=" + release})
	if err != nil {
		t.Fatalf("list pods of %s: %v", release, err)
	}
	return pods.Items
}

// Where a color's Deployment is left, for noneLeft.
const (
	deploymentDeleted = "deleted"
	scaledToZero      = "scaled to zero"
)

// noneLeft waits until no pod of release is left and the color's
// Deployment is as want says (deleted with its Service, or scaled to zero
// with its Service kept for the next release).
func (e *kubeEnv) noneLeft(t *testing.T, release, color, want string) {
	t.Helper()
	ctx := t.Context()
	name := "shop-" + color
	state := "not read yet"
	defer func() {
		if t.Failed() {
			t.Logf("last seen of %s: %s", release, state)
		}
	}()
	waitFor(t, 30*time.Second, "nothing of "+release+" left running", func() bool {
		if n := len(e.podsOf(t, release)); n > 0 {
			state = fmt.Sprintf("%d pods of %s", n, release)
			return false
		}
		dep, err := e.admin.AppsV1().Deployments(e.ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			state = deploymentDeleted
		case err != nil:
			state = err.Error()
		case dep.Spec.Replicas != nil && *dep.Spec.Replicas == 0 && dep.Status.Replicas == 0:
			state = scaledToZero
		default:
			state = fmt.Sprintf("Deployment %s of %s asks for %d pods", name, dep.Annotations["bascule.dev/release"], *dep.Spec.Replicas)
		}
		return state == want
	})
	_, err := e.admin.CoreV1().Services(e.ns).Get(ctx, name, metav1.GetOptions{})
	if gone := apierrors.IsNotFound(err); gone != (want == deploymentDeleted) {
		t.Errorf("Service %s: %v; want it kept only while its Deployment is", name, err)
	}
	t.Logf("nothing of %s left: no pod of it, Deployment %s %s", release, name, want)
}

// TestKubernetesEndToEnd is issue 17's end-to-end test: `bascule serve`
// with the kubernetes driver against a real API server and controllers,
// pods really running (kubetest's PodRunner, the test's stand-in for a
// kubelet), two `bascule router` processes, and users only through those
// routers. Its parts run in order on the one setup, each starting from
// where the previous one left production.
func TestKubernetesEndToEnd(t *testing.T) {
	began := time.Now()
	e := newKubeEnv(t)
	t.Logf("setup (API server, controllers, bascule serve, 2 routers): %s", time.Since(began).Round(time.Millisecond))
	steps := []struct {
		name string
		run  func(*testing.T, *kubeEnv)
	}{
		{"DeployAndPreview", kubeDeployAndPreview},
		{"SwitchUnderLoad", kubeSwitchUnderLoad},
		{"RolloutNeverReady", kubeRolloutNeverReady},
		{"KilledMidRollout", kubeKilledMidRollout},
		{"GuardRollsBack", kubeGuardRollsBack},
	}
	for _, s := range steps {
		start := time.Now()
		if !t.Run(s.name, func(t *testing.T) { s.run(t, e) }) {
			t.Fatalf("%s failed; the later parts start from where it left production", s.name)
		}
		t.Logf("%s: %s", s.name, time.Since(start).Round(time.Millisecond))
	}
	t.Logf("total: %s", time.Since(began).Round(time.Millisecond))
}

// kubeDeployAndPreview: v1 and v2 are images; v1 goes live on two pods,
// v2 is ready on the other color's two pods, and a request with the
// preview header and token reaches v2 through either router while the
// public still gets v1.
func kubeDeployAndPreview(t *testing.T, e *kubeEnv) {
	ctx := t.Context()
	e.addImage(t, "v1", imageV1)
	e.addImage(t, "v2", imageV2)
	d1 := e.deployReady(t, "v1")
	if _, err := e.in.cl.GoLive(ctx, "first"); err != nil {
		t.Fatalf("GoLive v1 = %v", err)
	}
	if pods := e.podsOf(t, "v1"); len(pods) != 2 {
		t.Errorf("v1 runs %d pods, want 2 (replicas: 2)", len(pods))
	}
	d2 := e.deployReady(t, "v2")
	if d2.Color == d1.Color {
		t.Fatalf("v2 deployed on %s, the live color", d2.Color)
	}
	e.inStep(t)
	// The control plane routes to each color's Service; every router
	// expands that reference into the color's ready pods itself.
	ref := "k8s:" + e.ns + "/shop-" + d2.Color
	for _, r := range e.routers {
		if out := r.out.String(); !logged(out, "following the pods of the colors' Services", e.ns) ||
			!logged(out, "routing table installed", ref) {
			t.Errorf("router %s does not follow %s's EndpointSlices for %s; it said:\n%s", r.id, e.ns, ref, out)
		}
	}
	e.throughEach(t, "v1")
	e.throughEach(t, "v2", "X-Bascule-Preview", previewToken)
	e.throughEach(t, "v1", "X-Bascule-Preview", "a guess")
}

// kubeSwitchUnderLoad: two go-live and rollback cycles under steady load
// (about 400 requests a second) through the two routers: no request
// fails, and once a call returns no request is served by the color it
// switched away from (the pods say when they served, X-Served-At).
func kubeSwitchUnderLoad(t *testing.T, e *kubeEnv) {
	l := startFleetLoad(t, 400, e.addrs)
	defer l.end()
	sentBefore, began := l.total.Load(), time.Now()
	waitFor(t, 10*time.Second, "the load answered from v1 through both routers", func() bool {
		_, ok := l.switched(e.addrs, "v1")
		return ok
	})
	apps := map[string]userClock{"v1": servedClock{l, "v1"}, "v2": servedClock{l, "v2"}}
	calls, spreads := switchCycles(t, e.in, l, e.addrs, apps, 4, "kubernetes test")
	l.end()
	rate := float64(l.total.Load()-sentBefore) / time.Since(began).Seconds()
	t.Logf("load: %.0f requests a second through 2 routers; %d sent, %d failed", rate, l.total.Load(), l.failed.Load())
	t.Logf("go-live/rollback call (both routers installed and drained): %s", summary(calls))
	t.Logf("call to every router answering from the new release: %s", summary(spreads))
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d requests failed; first: %v", n, l.firstErr.Load())
	}
	if l.lastServed("v1").IsZero() || l.lastServed("v2").IsZero() {
		t.Error("the load did not see when v1 and v2 served (X-Served-At): the checks above prove nothing")
	}
}

// kubeRolloutNeverReady: a release whose pods never pass their readiness
// probe ends failed with the driver's diagnosis (the Deployment's
// verdict, the pods' states and last log lines); production serves v1
// throughout with no failure, and nothing of the release is left.
func kubeRolloutNeverReady(t *testing.T, e *kubeEnv) {
	e.addImage(t, "v3", imageBad)
	l := startFleetLoad(t, 200, e.addrs)
	defer l.end()
	start := time.Now()
	d := e.deploy(t, "v3")
	took := time.Since(start)
	t.Logf("deploy v3 (never ready) ended %s after %s:\n%s", d.State, took.Round(time.Millisecond), d.Error)
	if d.State != store.StateFailed {
		t.Fatalf("deploy v3 = %s, want failed", d.State)
	}
	for _, want := range []string{"rollout failed", "ProgressDeadlineExceeded", "not ready", "release v3: not ready: unhealthy on purpose"} {
		if !strings.Contains(d.Error, want) {
			t.Errorf("the failed deployment's error lacks %q", want)
		}
	}
	e.noneLeft(t, "v3", d.Color, deploymentDeleted)
	l.end()
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during v3's rollout; first: %v", n, l.total.Load(), l.firstErr.Load())
	}
	if got := l.lastServed("v3"); !got.IsZero() {
		t.Errorf("v3 served a user's request at %s", got)
	}
	if n := l.total.Load(); n < int64(took.Seconds()*100) {
		t.Errorf("only %d requests sent during v3's rollout of %s: the load proves nothing", n, took.Round(time.Millisecond))
	}
	if st, err := e.in.cl.Status(t.Context()); err != nil || st.Live != colorOf(t, e, "v1") {
		t.Errorf("status after v3 failed = live %q, %v; want v1's color", st.Live, err)
	}
	e.throughEach(t, "v1")
	t.Logf("load during v3's rollout: %d requests, %d failed", l.total.Load(), l.failed.Load())
}

// colorOf is the color whose slot runs version, from the control plane's
// history: the latest deployment of it that went ready.
func colorOf(t *testing.T, e *kubeEnv, version string) string {
	t.Helper()
	hist, err := e.in.cl.Deployments(t.Context(), 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range hist {
		if d.Version == version && d.Color != "" && d.State != store.StateFailed {
			return d.Color
		}
	}
	t.Fatalf("no deployment of %s in %+v", version, hist)
	return ""
}

// kubeKilledMidRollout: kill -9 of bascule serve while v4's pods run but
// are not ready (their readiness waits for a file the test controls).
// Restarted, bascule adopts the live color's Deployment by its labels,
// fails the interrupted deployment and scales v4's pods away; the routers
// serve v1 throughout with no failure; then, v4 unblocked, a new deploy
// of it and a go-live work.
func kubeKilledMidRollout(t *testing.T, e *kubeEnv) {
	ctx := t.Context()
	e.addImage(t, "v4", imageGated)
	l := startFleetLoad(t, 200, e.addrs)
	defer l.end()
	d, err := e.in.cl.Deploy(ctx, "v4", "killed mid-rollout")
	if err != nil {
		t.Fatalf("Deploy v4 = %v", err)
	}
	waitFor(t, 20*time.Second, "a pod of v4 running, not ready", func() bool {
		for _, p := range e.podsOf(t, "v4") {
			if p.Status.Phase == corev1.PodRunning {
				return true
			}
		}
		return false
	})
	for _, p := range e.podsOf(t, "v4") {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				t.Fatalf("pod %s of v4 is ready before its file exists", p.Name)
			}
		}
	}
	e.in.kill()
	killed := time.Now()
	t.Logf("bascule serve killed (-9) during deployment #%d of v4", d.ID)
	e.in.start()
	t.Logf("bascule serve answers again %s after the kill", time.Since(killed).Round(time.Millisecond))
	var got store.Deployment
	waitFor(t, 30*time.Second, "the interrupted deployment of v4 ended", func() bool {
		got, err = e.in.cl.Deployment(ctx, d.ID)
		return err == nil && got.FinishedAt != nil
	})
	if got.State != store.StateFailed || !strings.Contains(got.Error, "interrupted") {
		t.Errorf("deployment #%d of v4 after the restart = %s %q, want failed, interrupted", d.ID, got.State, got.Error)
	}
	t.Logf("deployment #%d after the restart: %s: %s", d.ID, got.State, got.Error)
	v1Color := colorOf(t, e, "v1")
	if log := e.in.stderr.String(); !logged(log, "adopted running color", "color="+v1Color, "version=v1") {
		t.Errorf("bascule serve did not log adopting %s running v1; it said:\n%s", v1Color, log)
	}
	e.noneLeft(t, "v4", got.Color, scaledToZero)
	e.inStep(t)
	e.throughEach(t, "v1")
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests through the routers failed across the kill and restart; first: %v", n, l.total.Load(), l.firstErr.Load())
	}

	// v4 unblocked: the same release deploys and goes live.
	if err := os.WriteFile(e.readyFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.deployReady(t, "v4")
	l.reset()
	start := time.Now()
	if _, err := e.in.cl.GoLive(ctx, "after the restart"); err != nil {
		t.Fatalf("GoLive v4 after the restart = %v", err)
	}
	returned := time.Now()
	waitFor(t, 10*time.Second, "both routers answering from v4", func() bool {
		_, ok := l.switched(e.addrs, "v4")
		return ok
	})
	time.Sleep(300 * time.Millisecond) // users carry on; then look at v1
	l.end()
	t.Logf("go-live of v4 after the restart: the call took %s", returned.Sub(start).Round(time.Millisecond))
	if late := l.lastServed("v1"); late.After(returned) {
		t.Errorf("v1 served a request %s after the go-live of v4 returned", late.Sub(returned))
	}
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, l.total.Load(), l.firstErr.Load())
	}
	t.Logf("load across the kill, restart and go-live: %d requests, %d failed", l.total.Load(), l.failed.Load())
}

// logged reports whether a line of log holds every one of parts.
func logged(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// kubeGuardRollsBack: v5 answers 500 to 30 % of its requests; it goes
// live with the guard on, users reach it only through the two routers,
// and the guard, judging from the routers' counters, rolls back to v4 on
// its own.
func kubeGuardRollsBack(t *testing.T, e *kubeEnv) {
	ctx := t.Context()
	e.addImage(t, "v5", imageFlaky)
	e.deployReady(t, "v5")
	e.inStep(t)
	l := startFleetLoad(t, 200, e.addrs)
	defer l.end()
	// The guard compares with v4's baseline: let the routers count some.
	waitFor(t, 20*time.Second, "v4's baseline through the routers", func() bool { return l.total.Load() >= 400 })
	failedBefore := l.failed.Load()
	start := time.Now()
	if _, err := e.in.cl.GoLive(ctx, "ship v5"); err != nil {
		t.Fatalf("GoLive v5 = %v", err)
	}
	var g *deploy.GuardStatus
	waitFor(t, 30*time.Second, "the guard's verdict on v5", func() bool {
		s, err := e.in.cl.GoLiveState(ctx)
		g = s.Guard
		return err == nil && g != nil && g.Version == "v5" && g.Final()
	})
	verdict := time.Since(start)
	e.inStep(t)
	confirmedAt := time.Now()
	settled, sent := l.failed.Load(), l.total.Load()
	waitFor(t, 10*time.Second, "users served by v4 again", func() bool { return l.total.Load() >= sent+200 })
	l.end()
	t.Logf("guard on v5: %s %s after the go-live: %s (%d requests seen, %d errors; baseline %d)",
		g.State, verdict.Round(time.Millisecond), g.Reason, g.Requests, g.Errors, g.BaselineRequests)
	t.Logf("users' failed requests: %d while v5 was live (of %d sent in all)", settled-failedBefore, l.total.Load())
	if g.State != deploy.GuardRolledBack || !strings.Contains(g.Reason, "requests failed (5xx)") {
		t.Errorf("guard = %s %q, want rolled back for v5's 5xx", g.State, g.Reason)
	}
	if g.Requests == 0 || g.BaselineRequests == 0 {
		t.Errorf("the guard saw %d requests of v5 and a baseline of %d: it must judge from the routers' counters", g.Requests, g.BaselineRequests)
	}
	if verdict > 15*time.Second {
		t.Errorf("rolled back %s after the go-live, want within 15s", verdict)
	}
	if settled-failedBefore == 0 {
		t.Error("no user's request failed while v5 was live: the test proves nothing")
	}
	// v5 answers most requests well: when it last did says whether a
	// router still sent users there.
	if late := l.lastServed("v5"); late.After(confirmedAt) {
		t.Errorf("v5 served a request %s after both routers confirmed the guard's rollback", late.Sub(confirmedAt))
	}
	t.Logf("users' failed requests after both routers confirmed the rollback: %d", l.failed.Load()-settled)
	if !logged(e.in.stderr.String(), "msg=switched", "action=rollback", "version=v4", "actor=guard") {
		t.Errorf("bascule serve did not log the guard's rollback to v4 (actor=guard); it said:\n%s", e.in.stderr)
	}
	hist, err := e.in.cl.Deployments(ctx, 1)
	if err != nil || len(hist) == 0 || hist[0].Version != "v5" || hist[0].State != store.StateRolledBack || !strings.HasPrefix(hist[0].Error, "guard: ") {
		t.Errorf("v5's record = %+v, %v; want rolled_back by the guard", hist, err)
	}
	e.throughEach(t, "v4")
}
