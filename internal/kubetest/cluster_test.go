package kubetest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bascule/bascule/internal/netnstest"
)

var kube Shared

func TestMain(m *testing.M) {
	if mode := os.Getenv(appEnv); mode != "" {
		os.Exit(runApp(mode))
	}
	code := kube.Run(m)
	netnstest.Report()
	os.Exit(code)
}

const image = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// A Deployment goes all the way through the real controllers to an
// EndpointSlice, with the harness playing only the kubelet: what the
// kubernetes driver and the routers will rely on.
func TestDeploymentBecomesEndpointSlice(t *testing.T) {
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	ctx := t.Context()
	ns := createNamespace(t, client, "deploy")
	kubelet := cluster.StartKubelet(t, KubeletOptions{Namespace: ns, Run: ReadyPods(netip.MustParseAddr("10.200.1.1"))})

	labels := map[string]string{"app": "shop", "color": "blue"}
	createService(t, client, ns, "shop-blue", labels)
	createDeployment(t, client, ns, "shop-blue", labels, 2)

	waitFor(t, "deployment shop-blue available with 2 replicas", func() (bool, string) {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, "shop-blue", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := d.Status
		return s.ObservedGeneration == d.Generation && s.UpdatedReplicas == 2 && s.AvailableReplicas == 2,
			fmt.Sprintf("status %+v", s)
	})

	rss, err := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 1 || !ownedBy(rss.Items[0].ObjectMeta, "Deployment", "shop-blue") || rss.Items[0].Status.ReadyReplicas != 2 {
		t.Fatalf("replica sets = %s, want one of shop-blue with 2 ready replicas", describeReplicaSets(rss.Items))
	}
	pods := listPods(t, client, ns)
	var podIPs []string
	for _, p := range pods {
		if p.Spec.NodeName != kubelet.Node() || !podReady(p) || !strings.HasPrefix(p.Status.PodIP, "10.200.1.") {
			t.Errorf("pod %s on node %q, ready %v, IP %q; want on %s, ready, IP in 10.200.1.0/24",
				p.Name, p.Spec.NodeName, podReady(p), p.Status.PodIP, kubelet.Node())
		}
		if !ownedBy(p.ObjectMeta, "ReplicaSet", rss.Items[0].Name) {
			t.Errorf("pod %s is not owned by replica set %s", p.Name, rss.Items[0].Name)
		}
		podIPs = append(podIPs, p.Status.PodIP)
	}
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2", len(pods))
	}
	slices.Sort(podIPs)

	waitFor(t, "endpoint slice of shop-blue lists both pods ready", func() (bool, string) {
		got := readyAddresses(t, client, ns, "shop-blue")
		return cmp.Equal(got, podIPs), fmt.Sprintf("ready addresses %v, want %v", got, podIPs)
	})
}

// Scaling down deletes a pod; the kubelet's part is to stop it and remove
// it, after which the EndpointSlice controller drops its address.
func TestScaleDownRemovesPodAndEndpoint(t *testing.T) {
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	ctx := t.Context()
	ns := createNamespace(t, client, "scale")
	stopped := make(chan string, 4)
	ready := ReadyPods(netip.MustParseAddr("10.200.2.1"))
	cluster.StartKubelet(t, KubeletOptions{Namespace: ns, Run: func(ctx context.Context, pod *Pod) {
		ready(ctx, pod)
		stopped <- pod.Name
	}})
	labels := map[string]string{"app": "shop", "color": "green"}
	createService(t, client, ns, "shop-green", labels)
	createDeployment(t, client, ns, "shop-green", labels, 2)
	waitFor(t, "two ready endpoints", func() (bool, string) {
		got := readyAddresses(t, client, ns, "shop-green")
		return len(got) == 2, fmt.Sprintf("ready addresses %v", got)
	})

	// A patch, not a read-modify-write: the controllers write the
	// Deployment's status meanwhile.
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, "shop-green", types.MergePatchType,
		[]byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("scale to 1: %v", err)
	}
	waitFor(t, "one pod and one ready endpoint left", func() (bool, string) {
		pods := listPods(t, client, ns)
		got := readyAddresses(t, client, ns, "shop-green")
		return len(pods) == 1 && len(got) == 1 && got[0] == pods[0].Status.PodIP,
			fmt.Sprintf("%d pods, ready addresses %v", len(pods), got)
	})
	select {
	case name := <-stopped:
		if pods := listPods(t, client, ns); pods[0].Name == name {
			t.Errorf("the runner of the remaining pod %s was stopped", name)
		}
	default:
		t.Error("the deleted pod's runner was not stopped")
	}
}

// A pod whose runner reports it running but not ready is not available to
// its Deployment and not ready in its EndpointSlice: a rollout that never
// gets ready holds back, the routers send it nothing.
func TestNotReadyPodIsNotServing(t *testing.T) {
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	ctx := t.Context()
	ns := createNamespace(t, client, "unready")
	cluster.StartKubelet(t, KubeletOptions{Namespace: ns, Run: func(ctx context.Context, pod *Pod) {
		if err := pod.ReportRunning(ctx, netip.MustParseAddr("10.200.3.1"), false); err != nil && ctx.Err() == nil {
			t.Errorf("report running: %v", err)
		}
		<-ctx.Done()
	}})
	labels := map[string]string{"app": "shop", "color": "blue"}
	createService(t, client, ns, "shop-blue", labels)
	createDeployment(t, client, ns, "shop-blue", labels, 1)

	waitFor(t, "the endpoint slice lists the pod, not ready", func() (bool, string) {
		eps := endpoints(t, client, ns, "shop-blue")
		return len(eps) == 1 && eps[0].Conditions.Ready != nil && !*eps[0].Conditions.Ready &&
			slices.Equal(eps[0].Addresses, []string{"10.200.3.1"}), fmt.Sprintf("endpoints %+v", eps)
	})
	waitFor(t, "the deployment counts the pod unavailable", func() (bool, string) {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, "shop-blue", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := d.Status
		return s.ObservedGeneration == d.Generation && s.Replicas == 1 && s.UnavailableReplicas == 1,
			fmt.Sprintf("status %+v", s)
	})
	d, err := client.AppsV1().Deployments(ns).Get(ctx, "shop-blue", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 0 || d.Status.ReadyReplicas != 0 {
		t.Errorf("deployment status %+v, want nothing available or ready", d.Status)
	}
}

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

func createService(t *testing.T, client kubernetes.Interface, ns, name string, selector map[string]string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone, // headless: the routers balance, not kube-proxy
			Selector:  selector,
			Ports:     []corev1.ServicePort{{Name: "http", Port: 8080}},
		},
	}
	if _, err := client.CoreV1().Services(ns).Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service: %v", err)
	}
}

func createDeployment(t *testing.T, client kubernetes.Interface, ns, name string, labels map[string]string, replicas int32) {
	t.Helper()
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				}}},
			},
		},
	}
	if _, err := client.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
}

func listPods(t *testing.T, client kubernetes.Interface, ns string) []corev1.Pod {
	t.Helper()
	pods, err := client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// endpoints are the endpoints of the EndpointSlices of service.
func endpoints(t *testing.T, client kubernetes.Interface, ns, service string) []discoveryv1.Endpoint {
	t.Helper()
	list, err := client.DiscoveryV1().EndpointSlices(ns).List(t.Context(), metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + service,
	})
	if err != nil {
		t.Fatal(err)
	}
	var eps []discoveryv1.Endpoint
	for _, s := range list.Items {
		eps = append(eps, s.Endpoints...)
	}
	return eps
}

// readyAddresses are the sorted addresses of the ready endpoints of
// service, each checked to name its pod.
func readyAddresses(t *testing.T, client kubernetes.Interface, ns, service string) []string {
	t.Helper()
	var addrs []string
	for _, ep := range endpoints(t, client, ns, service) {
		if ep.Conditions.Ready == nil || !*ep.Conditions.Ready {
			continue
		}
		if ep.TargetRef == nil || ep.TargetRef.Kind != "Pod" {
			t.Errorf("endpoint %v names no pod", ep.Addresses)
		}
		addrs = append(addrs, ep.Addresses...)
	}
	slices.Sort(addrs)
	return addrs
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func ownedBy(m metav1.ObjectMeta, kind, name string) bool {
	ref := metav1.GetControllerOf(&m)
	return ref != nil && ref.Kind == kind && ref.Name == name
}

func describeReplicaSets(rss []appsv1.ReplicaSet) string {
	var b strings.Builder
	for _, rs := range rss {
		fmt.Fprintf(&b, "[%s owner %v ready %d] ", rs.Name, metav1.GetControllerOf(&rs), rs.Status.ReadyReplicas)
	}
	return b.String()
}

// waitFor polls cond until it holds or a minute passes; what cond last
// said is in the failure.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
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
