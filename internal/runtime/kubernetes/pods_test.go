package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/sampleapp"
)

// These tests run the pods for real: kubetest's PodRunner (the test's
// stand-in for a kubelet) runs each pod of testImage as this test binary,
// in a network namespace with the pod's own address, and the API server's
// pods/log reads what it wrote.

// appEnv, in the image's environment, makes the test binary the image's
// program. With no argument it is the sample app on $PORT (or, with
// APP_CRASH set, an app that prints it and exits 1 at start); with
// "migrate ok" or "migrate fail" it is a migration tool.
const appEnv = "BASCULE_KUBE_TEST_APP"

func runApp(args []string) int {
	if len(args) == 2 && args[0] == "migrate" {
		return migrateTool(args[1])
	}
	if msg := os.Getenv("APP_CRASH"); msg != "" {
		fmt.Println("starting", os.Getenv("BASCULE_RELEASE"))
		fmt.Fprintln(os.Stderr, msg)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := sampleapp.Options{Release: os.Getenv("BASCULE_RELEASE"), Color: os.Getenv("BASCULE_COLOR"), Grace: time.Second}
	if err := sampleapp.Serve(ctx, ":"+os.Getenv("PORT"), o, slog.New(slog.NewTextHandler(os.Stdout, nil))); err != nil {
		fmt.Fprintln(os.Stderr, "sample app:", err)
		return 1
	}
	return 0
}

// migrateTool says whether it got its database (never the URL: it
// carries a password), then succeeds or fails as asked.
func migrateTool(outcome string) int {
	fmt.Printf("migrating release %s, DATABASE_URL is %s\n", os.Getenv("BASCULE_RELEASE"), secretState(os.Getenv("DATABASE_URL")))
	if outcome == "slow" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		fmt.Println("applying 003_backfill, a long one")
		select {
		case <-ctx.Done():
			fmt.Println("interrupted")
			return 143
		case <-time.After(5 * time.Minute):
			return 0
		}
	}
	if outcome == "fail" {
		fmt.Println("applying 002_add_email")
		fmt.Fprintln(os.Stderr, "002_add_email: column \"email\" already exists")
		return 3
	}
	fmt.Println("applied 001_items, 002_add_email")
	return 0
}

func secretState(url string) string {
	if url == dbURL {
		return "the one configured"
	}
	return fmt.Sprintf("wrong (%d bytes)", len(url))
}

const dbURL = "postgres://shop:s3cret@db.example.com/shop"

// podsEnv is an env whose pods run testImage for real.
type podsEnv struct {
	env
	runner *kubetest.PodRunner
}

func newPodsEnv(t *testing.T) podsEnv {
	t.Helper()
	netnstest.Require(t)
	nw := netnstest.New(t)
	runner := kubetest.NewPodRunner(t, kubetest.PodRunnerOptions{Network: nw, RestartBackoff: 200 * time.Millisecond,
		Images: map[string]kubetest.Image{testImage: {Entrypoint: []string{os.Args[0], "-test.run=^$"}, Env: []string{appEnv + "=1"}}}})
	e := newEnvWith(t, kubetest.KubeletOptions{NodeIP: nw.AddAddr(), Run: runner.Run, Logs: runner})
	return podsEnv{env: e, runner: runner}
}

var fastHealth = runtime.HealthCheck{Path: "/healthz", Interval: time.Second}

// Start runs the release's image in pods that answer on their own
// addresses; the color's addresses are theirs, from the real EndpointSlice
// controller, and a request from here reaches the sample app in each.
// Killed, a pod's app leaves the color's addresses until it is restarted.
func TestStartRunsTheImageInPods(t *testing.T) {
	e := newPodsEnv(t)
	d := e.driver(t, Options{Replicas: 2, Health: fastHealth, StopTimeout: time.Second})
	inst, err := d.Start(t.Context(), runtime.Blue, spec("v1"))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	addrs := d.Addrs(runtime.Blue)
	pods, err := d.pods(t.Context(), runtime.Blue)
	if err != nil {
		t.Fatal(err)
	}
	var podAddrs []string
	for _, p := range pods {
		podAddrs = append(podAddrs, net.JoinHostPort(p.Status.PodIP, "8080"))
	}
	slices.Sort(podAddrs)
	if len(addrs) != 2 || !slices.Equal(addrs, podAddrs) || inst.Addr != addrs[0] {
		t.Fatalf("Start = %s, Addrs = %v; want the two pods' addresses %v", inst.Addr, addrs, podAddrs)
	}
	for _, a := range addrs {
		if got := get(t, "http://"+a+"/"); got != "v1\n" {
			t.Errorf("GET http://%s/ = %q, want the sample app's \"v1\\n\"", a, got)
		}
	}

	victim := pods[0]
	victimAddr := net.JoinHostPort(victim.Status.PodIP, "8080")
	if err := e.runner.Signal(e.ns, victim.Name, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 the app of %s: %v", victim.Name, err)
	}
	eventually(t, "the killed pod out of the color's addresses", func() (bool, string) {
		got := d.Addrs(runtime.Blue)
		return !slices.Contains(got, victimAddr), fmt.Sprintf("addrs %v", got)
	})
	eventually(t, "the killed pod restarted, back in the addresses", func() (bool, string) {
		got := d.Addrs(runtime.Blue)
		return slices.Equal(got, podAddrs), fmt.Sprintf("addrs %v", got)
	})
	if got := get(t, "http://"+victimAddr+"/"); got != "v1\n" {
		t.Errorf("GET the restarted pod = %q, want \"v1\\n\"", got)
	}
}

// A release whose app exits at start fails its rollout with the cluster's
// word for it and the app's own last lines, read through pods/log.
func TestCrashingReleaseFailsWithItsLogs(t *testing.T) {
	e := newPodsEnv(t)
	d := e.driver(t, Options{Health: fastHealth, StartTimeout: 3 * time.Second, StopTimeout: time.Second})
	s := spec("v2")
	s.Env = append(s.Env, "APP_CRASH=fatal: cannot reach the database at db:5432")
	_, err := d.Start(t.Context(), runtime.Green, s)
	if !errors.Is(err, ErrRolloutFailed) {
		t.Fatalf("Start = %v, want ErrRolloutFailed", err)
	}
	msg := err.Error()
	t.Logf("Start's error, as a failed deployment shows it:\n%s", msg)
	// The pod is caught between two restarts (waiting in
	// CrashLoopBackOff) or running again: its last exit says why either way.
	for _, want := range []string{"ProgressDeadlineExceeded", "last exit: Error (exit 1)", "restarts",
		"] fatal: cannot reach the database at db:5432", "] starting v2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Start error lacks %q", want)
		}
	}
	if strings.Contains(msg, "log unavailable") {
		t.Errorf("Start error could not read the pods' logs")
	}
	if _, err := e.client.AppsV1().Deployments(e.ns).Get(t.Context(), "shop-green", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get deployment after a failed rollout = %v, want not found", err)
	}
}

// A migration runs as a Job of the release's image with DATABASE_URL from
// a Secret of its own: its log lines are reported, and once complete it
// leaves nothing behind.
func TestRunJobCompletes(t *testing.T) {
	e := newPodsEnv(t)
	d := e.driver(t, Options{StopTimeout: time.Second})
	var progress []string
	note, err := d.RunJob(t.Context(), migrateJob("ok"), func(l string) { progress = append(progress, l) })
	if err != nil {
		t.Fatalf("RunJob: %v", err)
	}
	if !strings.HasPrefix(note, "as Kubernetes Job shop-migrate-") || !strings.Contains(note, "complete in") {
		t.Errorf("RunJob note = %q, want the Job's name and its completion", note)
	}
	want := []string{"expand_command: migrating release v2, DATABASE_URL is the one configured",
		"expand_command: applied 001_items, 002_add_email"}
	if len(progress) < 3 || !slices.Equal(progress[1:], want) || !strings.Contains(progress[0], "Kubernetes Job shop-migrate-") {
		t.Errorf("progress = %q, want the Job's start then %q", progress, want)
	}
	for _, l := range progress {
		if strings.Contains(l, "s3cret") {
			t.Errorf("progress shows the database password: %q", l)
		}
	}
	eventually(t, "nothing left: no Job, Secret or pod", func() (bool, string) { return leftovers(t, e) == "", leftovers(t, e) })
}

// A failed migration Job fails with its exit code and last lines, and is
// kept (without its Secret) for an operator; the next run removes it.
func TestRunJobFails(t *testing.T) {
	e := newPodsEnv(t)
	d := e.driver(t, Options{StopTimeout: time.Second})
	_, err := d.RunJob(t.Context(), migrateJob("fail"), nil)
	if !errors.Is(err, ErrJobFailed) {
		t.Fatalf("RunJob = %v, want ErrJobFailed", err)
	}
	msg := err.Error()
	t.Logf("RunJob's error:\n%s", msg)
	for _, want := range []string{"BackoffLimitExceeded", "exit 3", "002_add_email: column \"email\" already exists",
		"kept for diagnosis: Job shop-migrate-"} {
		if !strings.Contains(msg, want) {
			t.Errorf("RunJob error lacks %q", want)
		}
	}
	jobs, err := e.client.BatchV1().Jobs(e.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("jobs after a failure: %v, %v; want the failed one kept", jobs, err)
	}
	secrets, err := e.client.CoreV1().Secrets(e.ns).List(t.Context(), metav1.ListOptions{LabelSelector: LabelJob})
	if err != nil || len(secrets.Items) != 0 {
		t.Errorf("secrets after a failure: %v, %v; want the Job's deleted", secrets, err)
	}
	for _, env := range jobs.Items[0].Spec.Template.Spec.Containers[0].Env {
		if strings.Contains(env.Value, "s3cret") {
			t.Errorf("the Job's spec holds the database URL in %s", env.Name)
		}
	}

	var progress []string
	if _, err := d.RunJob(t.Context(), migrateJob("ok"), func(l string) { progress = append(progress, l) }); err != nil {
		t.Fatalf("RunJob after a failure: %v", err)
	}
	if want := "removed Job " + jobs.Items[0].Name + " of an earlier run (release v2)"; len(progress) == 0 || progress[0] != want {
		t.Errorf("progress = %q, want first %q", progress, want)
	}
	eventually(t, "nothing left", func() (bool, string) { return leftovers(t, e) == "", leftovers(t, e) })
}

// When the deployment ends before its migration Job (bascule stops, the
// deployment is cancelled), the Job is deleted and its tool stopped:
// nothing migrates on without bascule's migration lock.
func TestRunJobStopsWithItsContext(t *testing.T) {
	e := newPodsEnv(t)
	d := e.driver(t, Options{StopTimeout: time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := d.RunJob(ctx, migrateJob("slow"), nil)
		errc <- err
	}()
	var pod string
	eventually(t, "the tool running", func() (bool, string) {
		pods, err := e.client.CoreV1().Pods(e.ns).List(t.Context(), metav1.ListOptions{LabelSelector: LabelJob})
		if err != nil || len(pods.Items) == 0 {
			return false, fmt.Sprintf("pods %v", err)
		}
		pod = pods.Items[0].Name
		log, err := e.runner.ContainerLog(e.ns, pod, jobContainer)
		return strings.Contains(string(log), "a long one"), fmt.Sprintf("log %q, %v", log, err)
	})
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("RunJob after its context ended = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunJob did not return 30s after its context ended")
	}
	eventually(t, "nothing left", func() (bool, string) { return leftovers(t, e) == "", leftovers(t, e) })
	if log, _ := e.runner.ContainerLog(e.ns, pod, jobContainer); !strings.Contains(string(log), "interrupted") {
		t.Errorf("the tool's log %q does not show it was stopped by SIGTERM", log)
	}
}

func migrateJob(outcome string) Job {
	return Job{Purpose: "migrate", Release: "v2", Image: testImage, Label: "expand_command",
		Command:   []string{os.Args[0], "-test.run=^$", "migrate", outcome},
		SecretEnv: map[string]string{"DATABASE_URL": dbURL}}
}

// leftovers names the Jobs, Secrets and Job pods of the namespace.
func leftovers(t *testing.T, e podsEnv) string {
	t.Helper()
	ctx := t.Context()
	var left []string
	jobs, err := e.client.BatchV1().Jobs(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	for _, j := range jobs.Items {
		left = append(left, "job/"+j.Name)
	}
	secrets, err := e.client.CoreV1().Secrets(e.ns).List(ctx, metav1.ListOptions{LabelSelector: LabelJob})
	if err != nil {
		return err.Error()
	}
	for _, s := range secrets.Items {
		left = append(left, "secret/"+s.Name)
	}
	pods, err := e.client.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: LabelJob})
	if err != nil {
		return err.Error()
	}
	for _, p := range pods.Items {
		left = append(left, "pod/"+p.Name)
	}
	return strings.Join(left, " ")
}

// get fetches url from the test, outside every pod's namespace.
func get(t *testing.T, url string) string {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
