package kubernetes

import (
	"fmt"
	"math"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bascule/bascule/internal/runtime"
)

// deploymentFor is the color's Deployment running spec: its pods carry the
// color's selector plus the release, get PORT, BASCULE_COLOR and
// BASCULE_RELEASE after spec.Env (so those win, as with the process
// driver), and are ready when the health check passes.
func (d *Driver) deploymentFor(color string, spec runtime.Spec, now time.Time) *appsv1.Deployment {
	o := d.opts
	podLabels := d.selector(color)
	podLabels[LabelRelease] = releaseLabel(spec.Version)
	objLabels := map[string]string{LabelApp: o.App, LabelManagedBy: managedBy, LabelColor: color, LabelRelease: releaseLabel(spec.Version)}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: d.name(color), Namespace: o.Namespace, Labels: objLabels,
			Annotations: map[string]string{AnnotationRelease: spec.Version, AnnotationStarted: now.UTC().Format(time.RFC3339)}},
		Spec: appsv1.DeploymentSpec{
			Replicas:                new(o.Replicas),
			Selector:                &metav1.LabelSelector{MatchLabels: d.selector(color)},
			ProgressDeadlineSeconds: new(seconds(o.StartTimeout)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: map[string]string{AnnotationRelease: spec.Version}},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: new(int64(seconds(o.StopTimeout))),
					Containers:                    []corev1.Container{d.container(color, spec)},
				},
			},
		},
	}
}

func (d *Driver) container(color string, spec runtime.Spec) corev1.Container {
	o := d.opts
	var env []corev1.EnvVar
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, corev1.EnvVar{Name: k, Value: v})
	}
	env = append(env,
		corev1.EnvVar{Name: "PORT", Value: fmt.Sprint(o.Port)},
		corev1.EnvVar{Name: "BASCULE_COLOR", Value: color},
		corev1.EnvVar{Name: "BASCULE_RELEASE", Value: spec.Version})
	return corev1.Container{
		Name:           containerName,
		Image:          spec.Image,
		Ports:          []corev1.ContainerPort{{Name: portName, ContainerPort: o.Port, Protocol: corev1.ProtocolTCP}},
		Env:            env,
		Resources:      d.resources,
		ReadinessProbe: readinessProbe(o.Health),
	}
}

// readinessProbe is the health check as the kubelet runs it. Kubernetes
// counts in whole seconds, at least one.
func readinessProbe(hc runtime.HealthCheck) *corev1.Probe {
	path := hc.Path
	if path == "" {
		path = "/"
	}
	interval, timeout := hc.Interval, hc.Timeout
	if interval <= 0 {
		interval = time.Second
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(portName)}},
		PeriodSeconds:    seconds(interval),
		TimeoutSeconds:   seconds(timeout),
		SuccessThreshold: int32(max(hc.HealthyThreshold, 1)),
		FailureThreshold: 3,
	}
}

// serviceFor is the color's headless Service: it gives the color's ready
// pods an EndpointSlice, which the driver (and the routers) follow. It has
// no cluster IP on purpose: traffic goes to the pods the router picks,
// never through kube-proxy.
func (d *Driver) serviceFor(color string) *corev1.Service {
	o := d.opts
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: d.name(color), Namespace: o.Namespace,
			Labels: map[string]string{LabelApp: o.App, LabelManagedBy: managedBy, LabelColor: color}},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  d.selector(color),
			Ports: []corev1.ServicePort{{Name: portName, Port: o.Port, TargetPort: intstr.FromString(portName),
				Protocol: corev1.ProtocolTCP}},
		},
	}
}

// seconds rounds up to whole seconds, at least one.
func seconds(t time.Duration) int32 {
	s := math.Ceil(t.Seconds())
	return int32(min(max(s, 1), math.MaxInt32))
}

// releaseLabel is version as a label value: itself when valid, else with
// each invalid character replaced by "-", cut to 63 characters and
// trimmed to start and end with an alphanumeric. The exact version is in
// AnnotationRelease.
func releaseLabel(version string) string {
	if len(validation.IsValidLabelValue(version)) == 0 {
		return version
	}
	b := []byte(version)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	s := string(b[:min(len(b), validation.LabelValueMaxLength)])
	return strings.TrimFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}
