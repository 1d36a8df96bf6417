package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerCommand is what runs for a container: argv, environment and
// working directory, resolved once per pod.
type containerCommand struct {
	argv []string
	env  []string
	dir  string
}

// waitReason is why a container cannot start, as a kubelet reports it in
// the container's waiting state.
type waitReason struct {
	reason, msg string
}

// command resolves what runs for c as a container runtime would: the
// image's entrypoint (or the container's command) and arguments, the
// image's environment then the container's.
func (r *PodRunner) command(ctx context.Context, pod *Pod, c corev1.Container) (containerCommand, *waitReason) {
	img, ok := r.opts.Images[c.Image]
	if !ok {
		return containerCommand{}, &waitReason{"ErrImagePull",
			fmt.Sprintf("kubetest: image %q is not in PodRunnerOptions.Images", c.Image)}
	}
	argv := slices.Concat(img.Entrypoint, img.Cmd)
	switch {
	case len(c.Command) > 0:
		argv = slices.Concat(c.Command, c.Args)
	case len(c.Args) > 0:
		argv = slices.Concat(img.Entrypoint, c.Args)
	}
	if len(argv) == 0 {
		return containerCommand{}, &waitReason{"RunContainerError", "no command: the image has no entrypoint and the container no command"}
	}
	env := append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOSTNAME=" + pod.Name}, img.Env...)
	for _, e := range c.Env {
		v, err := r.envValue(ctx, pod, e)
		if err != nil {
			return containerCommand{}, &waitReason{"CreateContainerConfigError", err.Error()}
		}
		env = append(env, e.Name+"="+v)
	}
	if len(c.EnvFrom) > 0 {
		return containerCommand{}, &waitReason{"CreateContainerConfigError", "kubetest's pod runner does not support envFrom"}
	}
	dir := img.Dir
	if dir == "" {
		dir = filepath.Join(r.dir, pod.Namespace+"_"+pod.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return containerCommand{}, &waitReason{"RunContainerError", err.Error()}
		}
	}
	return containerCommand{argv: argv, env: env, dir: dir}, nil
}

// envValue is the value of one variable: literal, from a Secret's key, or
// the pod's name or namespace.
func (r *PodRunner) envValue(ctx context.Context, pod *Pod, e corev1.EnvVar) (string, error) {
	switch src := e.ValueFrom; {
	case src == nil:
		return e.Value, nil
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		s, err := pod.kubelet.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("env %s: secret %q: %w", e.Name, ref.Name, err)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("env %s: couldn't find key %s in Secret %s/%s", e.Name, ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), nil
	case src.FieldRef != nil && src.FieldRef.FieldPath == "metadata.name":
		return pod.Name, nil
	case src.FieldRef != nil && src.FieldRef.FieldPath == "metadata.namespace":
		return pod.Namespace, nil
	}
	return "", fmt.Errorf("env %s: kubetest's pod runner supports values, secretKeyRef and the pod's name and namespace only", e.Name)
}
