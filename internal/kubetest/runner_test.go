package kubetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/sampleapp"
)

// appEnv makes the test binary the program of the pods' image instead of
// the tests: "serve" runs the sample app on $PORT of every address (in the
// pod's namespace: its own IP), "exit" prints $APP_SAY and exits with
// $APP_EXIT, "stubborn" ignores SIGTERM.
const appEnv = "KUBETEST_APP"

func runApp(mode string) int {
	switch mode {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		o := sampleapp.Options{Release: os.Getenv("BASCULE_RELEASE"), Grace: time.Second}
		log := slog.New(slog.NewTextHandler(os.Stdout, nil))
		if err := sampleapp.Serve(ctx, ":"+os.Getenv("PORT"), o, log); err != nil {
			fmt.Fprintln(os.Stderr, "sample app:", err)
			return 1
		}
		return 0
	case "exit":
		fmt.Println(os.Getenv("APP_SAY"))
		code, _ := strconv.Atoi(os.Getenv("APP_EXIT"))
		return code
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		time.Sleep(10 * time.Minute)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown", appEnv, mode)
	return 2
}

// podEnv is a namespace whose pods run for real: processes of the test
// binary in network namespaces, behind a kubelet that serves their logs.
type podEnv struct {
	client kubernetes.Interface
	ns     string
	runner *PodRunner
}

func newPodEnv(t *testing.T, name string) podEnv {
	t.Helper()
	netnstest.Require(t)
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	nw := netnstest.New(t)
	runner := NewPodRunner(t, PodRunnerOptions{Network: nw, RestartBackoff: 200 * time.Millisecond, Images: map[string]Image{
		image: {Entrypoint: []string{os.Args[0], "-test.run=^$"}},
	}})
	ns := createNamespace(t, client, name)
	cluster.StartKubelet(t, KubeletOptions{Namespace: ns, NodeIP: nw.AddAddr(), Run: runner.Run, Logs: runner})
	return podEnv{client: client, ns: ns, runner: runner}
}

// A Deployment's pods run the sample app, each on its own address; the
// real EndpointSlice controller lists them once their readiness probe
// passes, and a request from the test reaches each of them. Killed, a
// pod's process is reported exited, its endpoint not ready, then it is
// restarted; the API server's pods/log reads what it wrote.
func TestPodRunnerRunsTheSampleApp(t *testing.T) {
	e := newPodEnv(t, "run")
	ctx := t.Context()
	labels := map[string]string{"app": "shop", "color": "blue"}
	createService(t, e.client, e.ns, "shop-blue", labels)
	d := appDeployment("shop-blue", labels, 2, corev1.Container{
		Env: []corev1.EnvVar{{Name: appEnv, Value: "serve"}, {Name: "PORT", Value: "8080"}, {Name: "BASCULE_RELEASE", Value: "v1"}},
		ReadinessProbe: &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 1,
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}},
	})
	if _, err := e.client.AppsV1().Deployments(e.ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	var ips []string
	waitFor(t, "two ready endpoints", func() (bool, string) {
		ips = readyAddresses(t, e.client, e.ns, "shop-blue")
		return len(ips) == 2, fmt.Sprintf("ready addresses %v", ips)
	})
	for _, ip := range ips {
		if body := get(t, "http://"+net.JoinHostPort(ip, "8080")+"/"); body != "v1\n" {
			t.Errorf("GET %s:8080/ = %q, want the sample app's v1", ip, body)
		}
	}

	pods := listPods(t, e.client, e.ns)
	victim := pods[0]
	logs, err := e.client.CoreV1().Pods(e.ns).GetLogs(victim.Name, &corev1.PodLogOptions{Container: "app"}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(logs), "sample app listening") {
		t.Errorf("pods/log of %s = %q, %v; want the sample app's start line", victim.Name, logs, err)
	}

	if err := e.runner.Signal(e.ns, victim.Name, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 the app of %s: %v", victim.Name, err)
	}
	waitFor(t, "the killed pod's endpoint not ready, its exit reported", func() (bool, string) {
		p, err := e.client.CoreV1().Pods(e.ns).Get(ctx, victim.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		cs := p.Status.ContainerStatuses[0]
		last := cs.LastTerminationState.Terminated
		if cs.State.Terminated != nil {
			last = cs.State.Terminated
		}
		ready := readyAddresses(t, e.client, e.ns, "shop-blue")
		return last != nil && last.ExitCode == 137 && !slices.Contains(ready, victim.Status.PodIP),
			fmt.Sprintf("container %+v, ready endpoints %v", cs, ready)
	})
	waitFor(t, "the killed pod restarted and ready again", func() (bool, string) {
		p, err := e.client.CoreV1().Pods(e.ns).Get(ctx, victim.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		cs := p.Status.ContainerStatuses[0]
		ready := readyAddresses(t, e.client, e.ns, "shop-blue")
		return cs.RestartCount == 1 && cs.Ready && slices.Contains(ready, victim.Status.PodIP),
			fmt.Sprintf("container %+v, ready endpoints %v", cs, ready)
	})
}

// A pod whose app never answers its probe stays not ready; a deleted pod
// whose process ignores SIGTERM is killed after its grace period.
func TestPodRunnerProbeAndGracePeriod(t *testing.T) {
	e := newPodEnv(t, "grace")
	ctx := t.Context()
	labels := map[string]string{"app": "stubborn"}
	createService(t, e.client, e.ns, "stubborn", labels)
	d := appDeployment("stubborn", labels, 1, corev1.Container{
		Env: []corev1.EnvVar{{Name: appEnv, Value: "stubborn"}},
		ReadinessProbe: &corev1.Probe{PeriodSeconds: 1,
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt(8080)}}},
	})
	d.Spec.Template.Spec.TerminationGracePeriodSeconds = new(int64(1))
	if _, err := e.client.AppsV1().Deployments(e.ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	waitFor(t, "the pod running, not ready, in the endpoints", func() (bool, string) {
		eps := endpoints(t, e.client, e.ns, "stubborn")
		pods := listPods(t, e.client, e.ns)
		return len(eps) == 1 && len(pods) == 1 && pods[0].Status.Phase == corev1.PodRunning && !podReady(pods[0]) &&
			eps[0].Conditions.Ready != nil && !*eps[0].Conditions.Ready, fmt.Sprintf("endpoints %+v", eps)
	})
	pod := listPods(t, e.client, e.ns)[0]
	// SIGTERM must not arrive before the program has said it ignores it.
	waitFor(t, "the app ignoring SIGTERM", func() (bool, string) {
		log, err := e.runner.ContainerLog(e.ns, pod.Name, "app")
		return strings.Contains(string(log), "ignoring SIGTERM"), fmt.Sprintf("log %q, %v", log, err)
	})
	deleted := time.Now()
	if err := e.client.AppsV1().Deployments(e.ns).Delete(ctx, "stubborn", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod gone", func() (bool, string) {
		pods := listPods(t, e.client, e.ns)
		return len(pods) == 0, fmt.Sprintf("%d pods", len(pods))
	})
	if took := time.Since(deleted); took < time.Second {
		t.Errorf("a pod ignoring SIGTERM was gone %s after its deletion, before its 1s grace period", took)
	}
	if err := e.runner.Signal(e.ns, pod.Name, 0); err == nil {
		t.Errorf("the pod's process still runs after its deletion")
	}
}

// A Job's pods run to completion: the real Job controller sees one
// succeed and marks its Job complete, and another fail with its exit code
// and marks that Job failed.
func TestPodRunnerJobsComplete(t *testing.T) {
	e := newPodEnv(t, "jobs")
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		exit int
		want batchv1.JobConditionType
	}{{"ok", 0, batchv1.JobComplete}, {"broken", 3, batchv1.JobFailed}} {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: tc.name},
			Spec: batchv1.JobSpec{BackoffLimit: new(int32(0)), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "migrate", Image: image, Env: []corev1.EnvVar{
					{Name: appEnv, Value: "exit"}, {Name: "APP_SAY", Value: "job " + tc.name + " says hello"},
					{Name: "APP_EXIT", Value: strconv.Itoa(tc.exit)}}}},
			}}},
		}
		if _, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create job: %v", err)
		}
	}
	for _, tc := range []struct {
		name  string
		want  batchv1.JobConditionType
		phase corev1.PodPhase
		exit  int32
	}{{"ok", batchv1.JobComplete, corev1.PodSucceeded, 0}, {"broken", batchv1.JobFailed, corev1.PodFailed, 3}} {
		waitFor(t, "job "+tc.name+" "+string(tc.want), func() (bool, string) {
			j, err := e.client.BatchV1().Jobs(e.ns).Get(ctx, tc.name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			for _, c := range j.Status.Conditions {
				if c.Type == tc.want && c.Status == corev1.ConditionTrue {
					return true, ""
				}
			}
			return false, fmt.Sprintf("status %+v", j.Status)
		})
		pods, err := e.client.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + tc.name})
		if err != nil || len(pods.Items) != 1 {
			t.Fatalf("pods of job %s: %v, %v; want one", tc.name, pods, err)
		}
		p := pods.Items[0]
		term := p.Status.ContainerStatuses[0].State.Terminated
		if p.Status.Phase != tc.phase || term == nil || term.ExitCode != tc.exit {
			t.Errorf("pod of job %s: %s, container %+v; want %s, exit %d", tc.name, p.Status.Phase, p.Status.ContainerStatuses[0].State, tc.phase, tc.exit)
		}
		logs, err := e.client.CoreV1().Pods(e.ns).GetLogs(p.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
		if want := "job " + tc.name + " says hello\n"; err != nil || string(logs) != want {
			t.Errorf("pods/log of job %s = %q, %v; want %q", tc.name, logs, err, want)
		}
	}
}

func appDeployment(name string, labels map[string]string, replicas int32, c corev1.Container) *appsv1.Deployment {
	c.Name, c.Image = "app", image
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
			},
		},
	}
}

// get fetches url from the test, outside every pod's namespace.
func get(t *testing.T, url string) string {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	resp, err := hc.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A pod of an image the runner does not know waits in ErrImagePull, as
// on a node that cannot pull it: never Running, never an endpoint.
func TestPodRunnerUnknownImageWaits(t *testing.T) {
	e := newPodEnv(t, "pull")
	d := appDeployment("other", map[string]string{"app": "other"}, 1, corev1.Container{})
	d.Spec.Template.Spec.Containers[0].Image = "registry.example.com/other@sha256:" + strings.Repeat("9", 64)
	if _, err := e.client.AppsV1().Deployments(e.ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	waitFor(t, "the pod waiting in ErrImagePull", func() (bool, string) {
		pods := listPods(t, e.client, e.ns)
		if len(pods) != 1 || len(pods[0].Status.ContainerStatuses) != 1 {
			return false, fmt.Sprintf("%d pods", len(pods))
		}
		p := pods[0]
		w := p.Status.ContainerStatuses[0].State.Waiting
		return p.Status.Phase == corev1.PodPending && w != nil && w.Reason == "ErrImagePull" && p.Status.PodIP == "",
			fmt.Sprintf("phase %s, container %+v", p.Status.Phase, p.Status.ContainerStatuses[0].State)
	})
}
