package kubernetes

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// How much a failed rollout's error quotes.
const (
	maxEvents   = 10
	podLogLines = 5
	// logsTimeout bounds Logs, whose signature has no context.
	logsTimeout = 5 * time.Second
)

// diagnose says why the color is not ready, for a person reading a failed
// deployment: the last events of its Deployment, ReplicaSets and pods,
// each pod's state, and the pods' last log lines. What cannot be read is
// said instead.
func (d *Driver) diagnose(ctx context.Context, color string) string {
	var b strings.Builder
	b.WriteString("\nevents:")
	events, err := d.events(ctx, color)
	switch {
	case err != nil:
		fmt.Fprintf(&b, "\n  (cannot list events: %v)", err)
	case len(events) == 0:
		b.WriteString("\n  (none)")
	}
	for _, e := range events {
		b.WriteString("\n  " + e)
	}
	pods, err := d.pods(ctx, color)
	b.WriteString("\npods:")
	switch {
	case err != nil:
		fmt.Fprintf(&b, "\n  (cannot list pods: %v)", err)
	case len(pods) == 0:
		b.WriteString("\n  (none)")
	}
	for _, p := range pods {
		b.WriteString("\n  " + podState(&p))
	}
	if len(pods) > 0 {
		b.WriteString("\nlogs:")
		for _, line := range d.podLogs(ctx, pods, podLogLines) {
			b.WriteString("\n  " + line)
		}
	}
	return b.String()
}

// events returns the last events about the color's Deployment, its
// ReplicaSets ("<name>-<hash>") and its pods ("<name>-<hash>-<id>"),
// oldest first, as "Kind/name: Reason: message".
func (d *Driver) events(ctx context.Context, color string) ([]string, error) {
	list, err := d.client.CoreV1().Events(d.opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	name := d.name(color)
	var ours []corev1.Event
	for _, e := range list.Items {
		if n := e.InvolvedObject.Name; n == name || strings.HasPrefix(n, name+"-") {
			ours = append(ours, e)
		}
	}
	slices.SortStableFunc(ours, func(a, b corev1.Event) int { return eventTime(a).Compare(eventTime(b)) })
	ours = ours[max(0, len(ours)-maxEvents):]
	out := make([]string, 0, len(ours))
	for _, e := range ours {
		out = append(out, fmt.Sprintf("%s/%s: %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, strings.TrimSpace(e.Message)))
	}
	return out, nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// pods lists the color's pods, whatever their release, by name.
func (d *Driver) pods(ctx context.Context, color string) ([]corev1.Pod, error) {
	sel := labels.SelectorFromSet(d.selector(color)).String()
	list, err := d.client.CoreV1().Pods(d.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list.Items, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return list.Items, nil
}

// podState reads like "shop-blue-7d9f-x2k: Running, not ready (release v2)"
// or "…: Pending, app waiting: ImagePullBackOff: …".
func podState(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", p.Name, p.Status.Phase)
	if p.Spec.NodeName == "" {
		b.WriteString(", not scheduled")
	}
	ready := false
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	if !ready {
		b.WriteString(", not ready")
	}
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil:
			fmt.Fprintf(&b, ", %s waiting: %s", c.Name, c.State.Waiting.Reason)
			if m := c.State.Waiting.Message; m != "" {
				b.WriteString(": " + m)
			}
		case c.State.Terminated != nil:
			fmt.Fprintf(&b, ", %s terminated: %s (exit %d)", c.Name, c.State.Terminated.Reason, c.State.Terminated.ExitCode)
		}
		if last := c.LastTerminationState.Terminated; last != nil {
			fmt.Fprintf(&b, ", last exit: %s (exit %d)", last.Reason, last.ExitCode)
		}
		if c.RestartCount > 0 {
			fmt.Fprintf(&b, ", %d restarts", c.RestartCount)
		}
	}
	if v := p.Annotations[AnnotationRelease]; v != "" {
		fmt.Fprintf(&b, " (release %s)", v)
	}
	return b.String()
}

// Logs returns up to n last lines the color's pods wrote (pods/log), each
// prefixed with its pod's name; a pod whose log cannot be read says so in
// one line. It returns nil when the color has no pod.
func (d *Driver) Logs(color string, n int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), logsTimeout)
	defer cancel()
	pods, err := d.pods(ctx, color)
	if err != nil || len(pods) == 0 || n <= 0 {
		return nil
	}
	lines := d.podLogs(ctx, pods, n)
	return lines[max(0, len(lines)-n):]
}

// podLogs reads the last n lines of each pod's app container.
func (d *Driver) podLogs(ctx context.Context, pods []corev1.Pod, n int) []string {
	var out []string
	tail := int64(n)
	for _, p := range pods {
		req := d.client.CoreV1().Pods(d.opts.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: containerName, TailLines: &tail})
		raw, err := req.DoRaw(ctx)
		if err != nil {
			out = append(out, fmt.Sprintf("[%s] (log unavailable: %s)", p.Name, firstLine(err.Error())))
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			out = append(out, fmt.Sprintf("[%s] %s", p.Name, sc.Text()))
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
