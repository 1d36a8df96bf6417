package config

import (
	"regexp"
	"strings"
)

// kubeName is an RFC 1123 label, what Kubernetes accepts as a namespace
// or Service name.
var kubeName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// kubeQuantity is a Kubernetes resource quantity such as "100m", "0.5",
// "128Mi" or "1e3" (the grammar of k8s.io/apimachinery's resource.Quantity,
// checked here without importing it).
var kubeQuantity = regexp.MustCompile(`^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$`)

// kubeColorSuffix is the longest "-<color>" the driver appends to the app
// name for its Deployments and Services.
const kubeColorSuffix = len("-green")

func (v *validator) kubernetes(k *Kubernetes, app string, active bool) {
	if !active {
		return
	}
	const path = "runtime.kubernetes"
	switch {
	case k.Namespace == "":
		v.errorf(path+".namespace", "required when runtime.driver is kubernetes, e.g. \"shop\"")
	case !kubeName.MatchString(k.Namespace) || len(k.Namespace) > 63:
		v.errorf(path+".namespace", "%q is not a Kubernetes namespace name (lowercase letters, digits and \"-\", at most 63)", k.Namespace)
	}
	if !kubeName.MatchString(app) || len(app)+kubeColorSuffix > 63 {
		v.errorf("app", "%q cannot name Kubernetes objects \"%s-blue\" and \"%s-green\": use lowercase letters, digits and \"-\", at most %d characters",
			app, app, app, 63-kubeColorSuffix)
	}
	if k.Replicas < 1 {
		v.errorf(path+".replicas", "must be at least 1, got %d", k.Replicas)
	}
	if k.IdleScaleDown < 0 {
		v.errorf(path+".idle_scale_down", "must be 0 (at once) or more, got %s", k.IdleScaleDown)
	}
	c := k.Container
	if c.Port < 1 || c.Port > 65535 {
		v.errorf(path+".container.port", "must be a port from 1 to 65535, got %d", c.Port)
	}
	for _, name := range sortedKeys(c.Env) {
		p := path + ".container.env." + name
		switch {
		case !isEnvName(name):
			v.errorf(p, "%q is not an environment variable name", name)
		case name == "PORT" || name == "BASCULE_COLOR" || name == "BASCULE_RELEASE":
			v.errorf(p, "%s is set by bascule for each release; remove it", name)
		}
	}
	v.quantities(path+".container.resources.requests", c.Requests)
	v.quantities(path+".container.resources.limits", c.Limits)
}

func (v *validator) quantities(path string, m map[string]string) {
	for _, name := range sortedKeys(m) {
		q := strings.TrimSpace(m[name])
		if !kubeQuantity.MatchString(q) {
			v.errorf(path+"."+name, "%q is not a resource quantity such as \"250m\", \"1\" or \"128Mi\"", m[name])
		}
	}
}
