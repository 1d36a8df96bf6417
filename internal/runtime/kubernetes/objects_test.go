package kubernetes

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bascule/bascule/internal/runtime"
)

// These are unit tests of pure functions (no API server): what a rollout
// looks like to rolloutState, and the objects the driver writes. The
// driver's behaviour is tested against a real API server in driver_test.go.

func TestRolloutState(t *testing.T) {
	dep := func(gen, observed int64, st appsv1.DeploymentStatus) *appsv1.Deployment {
		d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: new(int32(3))}, Status: st}
		d.Generation, d.Status.ObservedGeneration = gen, observed
		return d
	}
	tests := []struct {
		name         string
		dep          *appsv1.Deployment
		done         bool
		failed, said string
	}{
		{"controller has not seen the spec", dep(2, 1, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}),
			false, "", "waiting for the deployment controller"},
		{"pods being created", dep(2, 2, appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1}), false, "", "1 of 3 pods updated"},
		{"old pods still there", dep(2, 2, appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3, AvailableReplicas: 4}),
			false, "", "1 pods of the previous release terminating"},
		{"not all available", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}),
			false, "", "2 of 3 pods ready"},
		{"done", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), true, "", "rollout done"},
		{"progress deadline exceeded", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, Conditions: []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
			Message: `ReplicaSet "shop-green-5d4" has timed out progressing.`}}}),
			false, `ProgressDeadlineExceeded: ReplicaSet "shop-green-5d4" has timed out progressing.`, ""},
	}
	for _, tc := range tests {
		done, failed, said := rolloutState(tc.dep)
		if done != tc.done || failed != tc.failed || said != tc.said {
			t.Errorf("%s: rolloutState = %v, %q, %q; want %v, %q, %q", tc.name, done, failed, said, tc.done, tc.failed, tc.said)
		}
	}
}

func TestReleaseLabel(t *testing.T) {
	for in, want := range map[string]string{
		"v2":              "v2",
		"1.4.0":           "1.4.0",
		"1.4.0+build.7":   "1.4.0-build.7",
		"release/2026-12": "release-2026-12",
		"-x-":             "x",
	} {
		got := releaseLabel(in)
		if got != want {
			t.Errorf("releaseLabel(%q) = %q, want %q", in, got, want)
		}
		if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
			t.Errorf("releaseLabel(%q) = %q, not a label value: %v", in, got, errs)
		}
	}
}

// The Deployment's selector is the color's, without the release: it is
// immutable, and the next release on the color must match it.
func TestDeploymentFor(t *testing.T) {
	d := &Driver{opts: withDefaults(Options{Namespace: "shop", App: "shop", Replicas: 3, Port: 9000,
		Health:       runtime.HealthCheck{Path: "/healthz", Interval: 200 * time.Millisecond, Timeout: 2 * time.Second, HealthyThreshold: 2},
		StartTimeout: 90 * time.Second})}
	spec := runtime.Spec{Version: "v3", Image: "registry.example.com/shop@sha256:abc", Env: []string{"A=1", "PORT=1"}}
	dep := d.deploymentFor("green", spec, time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	if dep.Name != "shop-green" || *dep.Spec.Replicas != 3 || *dep.Spec.ProgressDeadlineSeconds != 90 {
		t.Errorf("deployment %s: replicas %d, progress deadline %ds; want shop-green, 3, 90", dep.Name, *dep.Spec.Replicas, *dep.Spec.ProgressDeadlineSeconds)
	}
	wantSel := map[string]string{LabelApp: "shop", LabelManagedBy: "bascule", LabelColor: "green"}
	if diff := cmp.Diff(wantSel, dep.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if got := dep.Spec.Template.Labels[LabelRelease]; got != "v3" {
		t.Errorf("pod label %s = %q, want v3", LabelRelease, got)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	// PORT comes after the spec's environment, so bascule's wins.
	if diff := cmp.Diff([]string{"A=1", "PORT=1", "PORT=9000", "BASCULE_COLOR=green", "BASCULE_RELEASE=v3"}, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	p := c.ReadinessProbe
	if p.HTTPGet.Path != "/healthz" || p.PeriodSeconds != 1 || p.TimeoutSeconds != 2 || p.SuccessThreshold != 2 {
		t.Errorf("readiness probe %s every %ds, timeout %ds, %d successes; want /healthz, 1, 2, 2",
			p.HTTPGet.Path, p.PeriodSeconds, p.TimeoutSeconds, p.SuccessThreshold)
	}
	svc := d.serviceFor("green")
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("service cluster IP %q, want headless", svc.Spec.ClusterIP)
	}
	if diff := cmp.Diff(wantSel, svc.Spec.Selector); diff != "" {
		t.Errorf("service selector (-want +got):\n%s", diff)
	}
}

func TestCheckImage(t *testing.T) {
	for img, ok := range map[string]bool{
		"":                                    false,
		"registry.example.com/shop:v3":        false,
		"registry.example.com/shop@sha256:ab": true,
	} {
		if err := checkImage(runtime.Spec{Version: "v3", Image: img}); (err == nil) != ok {
			t.Errorf("checkImage(%q) = %v, want ok=%v", img, err, ok)
		}
	}
}
