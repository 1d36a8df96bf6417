package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/router"
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

// A `bascule router --kubeconfig` process, with the control plane down for
// the whole test, serves the table it kept (blue is a reference to a
// Service) and follows the Service's pods itself: a scale-up and a pod
// replaced with a new address reach it without any new table.
func TestRouterInClusterFollowsPodsWithoutControlPlane(t *testing.T) {
	netnstest.Require(t)
	cluster := kubetest.Start(t)
	client := cluster.Client(t)
	ctx := t.Context()
	nsObj, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "shop-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns := nsObj.Name
	nw := netnstest.New(t)
	free := make(chan netip.Addr, 4)
	for range cap(free) {
		free <- nw.AddAddr()
	}
	cluster.StartKubelet(t, kubetest.KubeletOptions{Namespace: ns, Run: func(ctx context.Context, pod *kubetest.Pod) {
		var ip netip.Addr
		select {
		case ip = <-free:
		default:
			return // no address left: the pod stays pending
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "8080"))
		if err != nil {
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, pod.Name) })}
		go srv.Serve(ln)
		defer srv.Close()
		if pod.ReportRunning(ctx, ip, true) == nil {
			<-ctx.Done()
		}
	}})
	labels := map[string]string{"app.kubernetes.io/name": "shop", "bascule.dev/color": "blue"}
	if _, err := client.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "shop-blue"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: labels,
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "shop-blue"},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop@sha256:" + strings.Repeat("0", 64),
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	data := t.TempDir()
	blue := router.Ref{Namespace: ns, Service: "shop-blue", Port: "http"}
	if err := router.SaveTable(filepath.Join(data, "routing.json"), router.Table{Generation: 4, Live: router.Blue,
		Upstreams: map[router.Color]string{router.Blue: blue.String()}}); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	self, _ := os.Executable()
	cmd := exec.Command(self, "router", "--control", "http://"+freeAddr(t), "--listen", listen, "--data", data,
		"--kubeconfig", cluster.Kubeconfig(), "--namespace", ns)
	cmd.Env = append(os.Environ(), "BASCULE_E2E_EXEC=1", "BASCULE_TOKEN=unused")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("router output:\n%s", out.String())
		}
	})
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	answers := func() map[string]bool {
		seen := map[string]bool{}
		for range 30 {
			resp, err := c.Get("http://" + listen + "/")
			if err != nil {
				return seen
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				seen[string(b)] = true
			}
		}
		return seen
	}
	pods := func() []string {
		list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil {
				names = append(names, p.Name)
			}
		}
		slices.Sort(names)
		return names
	}
	answeredByAll := func(what string) {
		t.Helper()
		waitFor(t, time.Minute, what, func() bool {
			want, got := pods(), answers()
			return len(got) == len(want) && !slices.ContainsFunc(want, func(p string) bool { return !got[p] })
		})
	}
	answeredByAll("the router to answer from blue's pod")

	patch := []byte(`{"spec":{"replicas":2}}`)
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, "shop-blue", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "two pods", func() bool { return len(pods()) == 2 })
	answeredByAll("the router to answer from both pods after the scale-up")

	first := pods()[0]
	if err := client.CoreV1().Pods(ns).Delete(ctx, first, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the replacement pod", func() bool { p := pods(); return len(p) == 2 && !slices.Contains(p, first) })
	answeredByAll("the router to answer from the replacement pod")
	if got := answers(); got[first] {
		t.Errorf("the deleted pod %s still answers through the router", first)
	}
}
