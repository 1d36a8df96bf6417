package kubetest

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// KubeletOptions configure StartKubelet. The zero value registers node
// "kubetest-node" at 10.200.0.1, serves pods of every namespace, and leaves
// each bound pod Pending: nothing runs it.
type KubeletOptions struct {
	// NodeName names the Node to register; "" means "kubetest-node", or
	// "kubetest-NAMESPACE" when Namespace is set, so that the tests of one
	// package can each have their own.
	NodeName string
	// NodeIP is the node's InternalIP and its pods' hostIP; the zero value
	// means 10.200.0.1.
	NodeIP netip.Addr
	// Namespace limits the kubelet to the pods of one namespace; "" means
	// all. Tests sharing a cluster each take a namespace.
	Namespace string
	// Run runs each pod bound to the node, in its own goroutine, as the
	// container runtime would: it reports the pod's state through the Pod it
	// is given, and returns when ctx ends, which happens when the pod is
	// deleted or the kubelet stops. When it returns earlier, the pod keeps
	// the state last reported (no restart). nil means no pod ever runs.
	Run RunFunc
	// Logs, when set, makes the kubelet serve its containers' logs as a
	// real kubelet does, so that the API server's pods/log works: over
	// HTTPS on NodeIP, at the port it reports in the Node's status.
	// NodeIP must then be an address of this machine that the API server
	// reaches, such as netnstest's Network.AddAddr. nil: pods/log fails,
	// as for a node whose kubelet cannot be reached.
	Logs LogSource
}

// RunFunc runs one pod; see KubeletOptions.Run.
type RunFunc func(ctx context.Context, pod *Pod)

// Kubelet plays the kubelet's part for one Node of a Cluster, since no real
// kubelet can run here (no container runtime, no root cgroups). It does what
// the control plane's controllers expect of a kubelet and nothing else: it
// registers its Node (Ready); binds to it the pods that no scheduler bound
// (there is no kube-scheduler either); hands each bound pod to a RunFunc,
// which reports the pod Running, Ready and its IP when it judges so; and
// when a pod is deleted, stops the RunFunc and removes the pod, as a
// kubelet does once the containers are gone. The Deployment, ReplicaSet
// and EndpointSlice controllers that react to all this are the real ones.
type Kubelet struct {
	client kubernetes.Interface
	node   string
	nodeIP netip.Addr
	run    RunFunc
	logf   func(string, ...any)

	factory informers.SharedInformerFactory
	lister  corelisters.PodLister
	queue   workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex
	running map[string]*runningPod // by namespace/name
	logs    *logServer             // nil without KubeletOptions.Logs

	cancel context.CancelFunc
	done   chan struct{} // closed when the worker has returned
}

// runningPod is a pod whose RunFunc was started.
type runningPod struct {
	uid      types.UID
	pod      *Pod
	grace    time.Duration // the pod's termination grace period
	cancel   context.CancelFunc
	done     chan struct{}
	stopping bool // cancelled after the pod's deletion; guarded by Kubelet.mu
}

// runnerStopTimeout bounds the wait for a RunFunc to return after its pod
// was deleted, beyond the pod's grace period; a RunFunc that ignores ctx
// must not stall the kubelet.
const runnerStopTimeout = 30 * time.Second

// StartKubelet registers a Node and starts serving the pods bound to it,
// until t ends.
func (c *Cluster) StartKubelet(t testing.TB, opts KubeletOptions) *Kubelet {
	t.Helper()
	k := &Kubelet{
		client:  c.Client(t),
		node:    opts.NodeName,
		nodeIP:  opts.NodeIP,
		run:     opts.Run,
		logf:    t.Logf,
		running: make(map[string]*runningPod),
		done:    make(chan struct{}),
	}
	if k.node == "" {
		k.node = "kubetest-node"
		if opts.Namespace != "" {
			k.node = "kubetest-" + opts.Namespace
		}
	}
	if !k.nodeIP.IsValid() {
		k.nodeIP = netip.AddrFrom4([4]byte{10, 200, 0, 1})
	}
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	t.Cleanup(k.stop)
	if opts.Logs != nil {
		ls, err := c.startLogServer(k.nodeIP, opts.Logs, t.Logf)
		if err != nil {
			close(k.done)
			t.Fatalf("kubelet: %v", err)
		}
		k.logs = ls
	}
	if err := k.registerNode(ctx); err != nil {
		close(k.done)
		t.Fatalf("kubelet: %v", err)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 0, informers.WithNamespace(opts.Namespace))
	pods := factory.Core().V1().Pods()
	k.lister = pods.Lister()
	k.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}); err != nil {
		close(k.done)
		t.Fatalf("kubelet: watch pods: %v", err)
	}
	k.factory = factory
	factory.Start(ctx.Done())
	syncCtx, cancelSync := context.WithTimeout(ctx, time.Minute)
	defer cancelSync()
	for typ, ok := range factory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			close(k.done)
			t.Fatalf("kubelet: informer for %v did not sync", typ)
		}
	}
	go k.work(ctx)
	return k
}

// Node is the name of the kubelet's Node.
func (k *Kubelet) Node() string { return k.node }

func (k *Kubelet) registerNode(ctx context.Context) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   k.node,
		Labels: map[string]string{corev1.LabelHostname: k.node, corev1.LabelOSStable: "linux"},
	}}
	created, err := k.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("register node %s: %w", k.node, err)
	}
	// The status is the kubelet's to report, through its own subresource.
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "kubetest plays the kubelet", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: k.nodeIP.String()},
			{Type: corev1.NodeHostName, Address: k.node},
		},
	}
	if k.logs != nil {
		created.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(k.logs.port)
	}
	if _, err := k.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("report node %s ready: %w", k.node, err)
	}
	return nil
}

// work syncs the pods the informer reports, one at a time, until ctx ends.
func (k *Kubelet) work(ctx context.Context) {
	defer close(k.done)
	for {
		key, shutdown := k.queue.Get()
		if shutdown {
			return
		}
		if err := k.sync(ctx, key); err != nil && ctx.Err() == nil {
			k.logf("kubelet: pod %s: %v (retrying)", key, err)
			k.queue.AddRateLimited(key)
		} else {
			k.queue.Forget(key)
		}
		k.queue.Done(key)
	}
}

// sync brings the pod named key to what a kubelet would make of it, from
// its current state, not from the event that queued it.
func (k *Kubelet) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := k.lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		k.stopRunner(key, "")
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil:
		return k.bind(ctx, pod)
	case pod.Spec.NodeName != k.node:
		return nil
	case pod.DeletionTimestamp != nil:
		if k.stopping(key, pod.DeletionGracePeriodSeconds) {
			return nil // requeued once the runner has returned
		}
		err := k.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		k.stopRunner(key, "")
		return nil
	default:
		k.stopRunner(key, pod.UID) // a pod of the same name, recreated
		k.startRunner(ctx, key, pod)
		return nil
	}
}

// bind does the scheduler's one job here: every pod goes to this node.
// Another kubelet of the cluster may bind it first; that is no error.
func (k *Kubelet) bind(ctx context.Context, pod *corev1.Pod) error {
	if want := pod.Spec.NodeSelector[corev1.LabelHostname]; want != "" && want != k.node {
		return nil
	}
	err := k.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: k.node},
	}, metav1.CreateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bind to %s: %w", k.node, err)
	}
	return nil
}

// startRunner starts the RunFunc of pod unless it runs already.
func (k *Kubelet) startRunner(ctx context.Context, key string, pod *corev1.Pod) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.running[key]; ok || k.run == nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Pod{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, Spec: *pod.Spec.DeepCopy(), kubelet: k}
	p.deletionGrace.Store(-1)
	r := &runningPod{uid: pod.UID, pod: p, grace: p.GracePeriod(), cancel: cancel, done: make(chan struct{})}
	k.running[key] = r
	go func() {
		defer close(r.done)
		k.run(ctx, p)
	}()
}

// stopping stops the RunFunc of key without waiting for it, as a kubelet
// stops a deleted pod's containers while it goes on with other pods (a
// grace period can be long), and queues key again once it has returned.
// grace is the deletion's grace period, if it set one.
// It reports whether the RunFunc is still running.
func (k *Kubelet) stopping(key string, grace *int64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.running[key]
	if !ok {
		return false
	}
	if !r.stopping {
		r.stopping = true
		if grace != nil {
			r.pod.deletionGrace.Store(*grace)
			r.grace = time.Duration(*grace) * time.Second
		}
		r.cancel()
		go func() {
			select {
			case <-r.done:
			case <-time.After(runnerStopTimeout + r.grace):
				k.logf("kubelet: the runner of pod %s did not return %v after its pod was deleted", key, runnerStopTimeout+r.grace)
			}
			k.mu.Lock()
			if k.running[key] == r {
				delete(k.running, key)
			}
			k.mu.Unlock()
			k.queue.Add(key)
		}()
	}
	return true
}

// stopRunner stops the RunFunc of key, unless keep is the UID it runs
// for, and waits for it to return.
func (k *Kubelet) stopRunner(key string, keep types.UID) {
	k.mu.Lock()
	r, ok := k.running[key]
	if ok && (keep == "" || r.uid != keep) {
		delete(k.running, key)
	} else {
		ok = false
	}
	k.mu.Unlock()
	if !ok {
		return
	}
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(runnerStopTimeout + r.grace):
		k.logf("kubelet: the runner of pod %s did not return %v after it was stopped", key, runnerStopTimeout+r.grace)
	}
}

// stop ends the worker and every RunFunc. The Node stays registered, as a
// real one does when its kubelet stops.
func (k *Kubelet) stop() {
	k.cancel()
	if k.queue != nil {
		k.queue.ShutDown()
	}
	<-k.done
	k.mu.Lock()
	keys := make([]string, 0, len(k.running))
	for key := range k.running {
		keys = append(keys, key)
	}
	k.mu.Unlock()
	for _, key := range keys {
		k.stopRunner(key, "")
	}
	if k.factory != nil {
		k.factory.Shutdown() // its informers stop with the context cancelled above
	}
	if k.logs != nil {
		k.logs.stop()
	}
}
