package kubetest

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// Pod is a pod a Kubelet runs, as its RunFunc sees it: what the pod asks
// for, and how to report its state to the API server.
type Pod struct {
	Namespace, Name string
	UID             types.UID
	// Spec is the pod's spec when it was bound, the node name included.
	Spec corev1.PodSpec

	kubelet       *Kubelet
	deletionGrace atomic.Int64 // seconds; -1 until a deletion sets one
}

// GracePeriod is how long the pod's containers get between SIGTERM and
// SIGKILL when it is stopped: the grace period of its deletion when the
// deletion set one (kubectl delete --grace-period), else the spec's
// terminationGracePeriodSeconds, else Kubernetes' default of 30 seconds.
// A RunFunc reads it once its ctx has ended.
func (p *Pod) GracePeriod() time.Duration {
	if g := p.deletionGrace.Load(); g >= 0 {
		return time.Duration(g) * time.Second
	}
	if g := p.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

// ReportRunning reports the pod Running with address ip, every container
// started, and Ready (its readiness probe passing) or not. The
// EndpointSlice controller lists a pod only once it has an address; it
// refuses loopback addresses.
func (p *Pod) ReportRunning(ctx context.Context, ip netip.Addr, ready bool) error {
	return p.UpdateStatus(ctx, func(st *corev1.PodStatus) {
		now := metav1.Now()
		st.Phase = corev1.PodRunning
		st.HostIP = p.kubelet.nodeIP.String()
		st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
		st.PodIP = ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
		if st.StartTime == nil {
			st.StartTime = &now
		}
		setCondition(st, corev1.PodScheduled, true, now)
		setCondition(st, corev1.PodInitialized, true, now)
		setCondition(st, corev1.ContainersReady, ready, now)
		setCondition(st, corev1.PodReady, ready, now)
		st.ContainerStatuses = st.ContainerStatuses[:0]
		for _, c := range p.Spec.Containers {
			st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
				Name:        c.Name,
				Image:       c.Image,
				ImageID:     c.Image,
				ContainerID: "kubetest://" + string(p.UID) + "/" + c.Name,
				Ready:       ready,
				Started:     new(true),
				State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: *st.StartTime}},
			})
		}
	})
}

// UpdateStatus applies change to the pod's current status and writes it,
// retrying on a conflicting write: for states ReportRunning does not cover
// (a container waiting in CrashLoopBackOff, a pod that failed).
func (p *Pod) UpdateStatus(ctx context.Context, change func(*corev1.PodStatus)) error {
	pods := p.kubelet.client.CoreV1().Pods(p.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != p.UID {
			return fmt.Errorf("pod was replaced (uid %s, ran %s)", cur.UID, p.UID)
		}
		change(&cur.Status)
		_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("report status of pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// setCondition sets a condition of st, keeping its transition time when its
// status does not change.
func setCondition(st *corev1.PodStatus, typ corev1.PodConditionType, ok bool, now metav1.Time) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ {
			if st.Conditions[i].Status != status {
				st.Conditions[i].Status, st.Conditions[i].LastTransitionTime = status, now
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: now})
}

// ReadyPods is a RunFunc that reports every pod Running and Ready at once,
// each with the next address counting up from first; nothing listens
// there. It is for tests of what the controllers and bascule make of
// pods, not of traffic to them. Addresses are not reused.
func ReadyPods(first netip.Addr) RunFunc {
	var mu sync.Mutex
	next := first
	return func(ctx context.Context, pod *Pod) {
		mu.Lock()
		ip := next
		next = next.Next()
		mu.Unlock()
		if err := pod.ReportRunning(ctx, ip, true); err != nil && ctx.Err() == nil {
			pod.kubelet.logf("kubelet: %v", err)
		}
		<-ctx.Done()
	}
}
