package kubetest

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// statusWriter holds what a PodRunner knows of one pod's one container and
// writes it to the pod's status at every change, one write at a time (the
// prober and the process's watcher both report).
type statusWriter struct {
	pod  *Pod
	logf func(string, ...any)

	mu       sync.Mutex
	phase    corev1.PodPhase
	ip       netip.Addr
	ready    bool
	state    corev1.ContainerState
	last     corev1.ContainerState
	restarts int32
	started  *metav1.Time // the pod's start time
	reason   string       // the pod's, when it failed as a whole
	message  string
}

// fail reports the pod Failed as a whole, its container never started.
func (s *statusWriter) fail(ctx context.Context, reason, msg string) {
	s.update(ctx, func() {
		s.phase, s.reason, s.message = corev1.PodFailed, reason, msg
		s.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	})
}

// wait reports the container waiting to start, and why.
func (s *statusWriter) wait(ctx context.Context, reason, msg string) {
	s.update(ctx, func() {
		if s.phase == "" {
			s.phase = corev1.PodPending
		}
		s.ready = false
		s.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	})
}

// running reports the container started, on the pod's address ip.
func (s *statusWriter) running(ctx context.Context, ip netip.Addr, ready bool) {
	s.update(ctx, func() {
		s.phase, s.ip, s.ready = corev1.PodRunning, ip, ready
		s.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
	})
}

// setReady reports the readiness probe's verdict while the container runs.
func (s *statusWriter) setReady(ctx context.Context, ok bool) {
	s.mu.Lock()
	same := s.ready == ok || s.state.Running == nil
	s.mu.Unlock()
	if !same {
		s.update(ctx, func() {
			if s.state.Running != nil {
				s.ready = ok
			}
		})
	}
}

// exited reports the container's process ended with code.
func (s *statusWriter) exited(ctx context.Context, code int32) {
	s.update(ctx, func() {
		s.ready = false
		t := &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Error", FinishedAt: metav1.Now()}
		if code == 0 {
			t.Reason = "Completed"
		}
		if s.state.Running != nil {
			t.StartedAt = s.state.Running.StartedAt
		}
		s.state = corev1.ContainerState{Terminated: t}
	})
}

// crashLoop reports the exited container waiting backoff before its
// restart, as a kubelet does: CrashLoopBackOff, the exit as its last
// state, and the restart counted.
func (s *statusWriter) crashLoop(ctx context.Context, backoff time.Duration) {
	s.update(ctx, func() {
		s.last = s.state
		s.restarts++
		s.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
				backoff, s.pod.Spec.Containers[0].Name, s.pod.Name, s.pod.Namespace, s.pod.UID)}}
	})
}

// finish reports the pod done: Succeeded when its container exited 0,
// else Failed (restartPolicy Never or OnFailure, as a Job's pods).
func (s *statusWriter) finish(ctx context.Context, code int32) {
	s.update(ctx, func() {
		s.phase = corev1.PodSucceeded
		if code != 0 {
			s.phase = corev1.PodFailed
		}
	})
}

// update changes the state under the lock and writes it.
func (s *statusWriter) update(ctx context.Context, change func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change()
	if s.started == nil {
		now := metav1.Now()
		s.started = &now
	}
	if err := s.pod.UpdateStatus(ctx, s.write); err != nil && ctx.Err() == nil {
		s.logf("kubelet: %v", err)
	}
}

// write puts the state into st. The caller holds s.mu.
func (s *statusWriter) write(st *corev1.PodStatus) {
	now := metav1.Now()
	p := s.pod
	st.Phase, st.Reason, st.Message = s.phase, s.reason, s.message
	st.HostIP = p.kubelet.nodeIP.String()
	st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	if s.ip.IsValid() {
		st.PodIP = s.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	st.StartTime = s.started
	setCondition(st, corev1.PodScheduled, true, now)
	setCondition(st, corev1.PodInitialized, true, now)
	setCondition(st, corev1.ContainersReady, s.ready, now)
	setCondition(st, corev1.PodReady, s.ready, now)
	c := p.Spec.Containers[0]
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: s.ready,
		Started: new(s.state.Running != nil), State: s.state, LastTerminationState: s.last, RestartCount: s.restarts}
	if s.state.Waiting == nil || s.restarts > 0 {
		cs.ContainerID = fmt.Sprintf("kubetest://%s/%s/%d", p.UID, c.Name, s.restarts)
	}
	st.ContainerStatuses = []corev1.ContainerStatus{cs}
}
