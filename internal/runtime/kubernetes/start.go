package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime"
)

// ErrRolloutFailed is wrapped by Start's error when the rollout did not
// become ready: the Deployment exceeded its progress deadline, or Start's
// time ran out. The error carries the pods' events, states and last log
// lines.
var ErrRolloutFailed = errors.New("rollout failed")

// progressGrace is how long Start waits past the Deployment's progress
// deadline for the deployment controller's verdict, which names the cause;
// the bound itself only matters when no controller answers.
const progressGrace = 5 * time.Second

// cleanupTimeout bounds what a failed Start does to leave nothing behind,
// on a context of its own: the caller's may be what ended.
const cleanupTimeout = 30 * time.Second

// Start rolls spec's image out on color and returns once the Deployment
// reports the rollout done (observed generation, every replica updated
// and available, none of an older template left) and the color's
// EndpointSlices list as many ready addresses. It refuses (wrapping
// runtime.ErrBusy) a color that runs another release: Stop it first. A
// color that already runs spec (adopted after a restart) is only waited
// for. A rollout that fails — the Deployment reports it past its progress
// deadline (Options.StartTimeout without progress), or it is not ready
// shortly after that — is scaled down and its Deployment and
// Service deleted, and the error (wrapping ErrRolloutFailed) tells why.
func (d *Driver) Start(ctx context.Context, color string, spec runtime.Spec) (runtime.Instance, error) {
	if err := checkColor(color); err != nil {
		return runtime.Instance{}, fmt.Errorf("start %s: %w", spec.Version, err)
	}
	// The caller says which release and color (deploy: "start v3 on
	// green: …"); the driver says what went wrong.
	if err := checkImage(spec); err != nil {
		return runtime.Instance{}, err
	}
	fresh, gen, err := d.apply(ctx, color, spec)
	if err != nil {
		return runtime.Instance{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, d.opts.StartTimeout+progressGrace)
	defer cancel()
	inst, err := d.waitReady(wctx, color, gen)
	if err == nil {
		return inst, nil
	}
	if ctx.Err() != nil {
		// bascule itself is stopping: the deployment is failed on restart,
		// which stops the color then.
		return runtime.Instance{}, fmt.Errorf("rollout of %s: %w", spec.Version, ctx.Err())
	}
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer ccancel()
	why := d.diagnose(cctx, color)
	if fresh {
		if rerr := d.remove(cctx, color); rerr != nil {
			why += "\nleft behind: " + rerr.Error()
		}
	}
	return runtime.Instance{}, fmt.Errorf("%w: %v%s", ErrRolloutFailed, err, why)
}

// checkImage refuses a spec without an image by digest: build once means
// the exact bytes, which a tag does not name.
func checkImage(spec runtime.Spec) error {
	switch {
	case spec.Image == "":
		return fmt.Errorf("release %s has no image: register it with `bascule release add %s --image REPOSITORY@sha256:…`", spec.Version, spec.Version)
	case !strings.Contains(spec.Image, "@sha256:"):
		return fmt.Errorf("image %q is not a digest reference (REPOSITORY@sha256:…)", spec.Image)
	}
	return nil
}

// apply creates or updates the color's Service and Deployment to run
// spec. It reports whether it rolled something out (false: the color
// already ran spec, and a failure must not delete it) and the
// Deployment's generation that runs spec.
func (d *Driver) apply(ctx context.Context, color string, spec runtime.Spec) (fresh bool, gen int64, err error) {
	if err := d.ensureService(ctx, color); err != nil {
		return false, 0, err
	}
	api := d.client.AppsV1().Deployments(d.opts.Namespace)
	want := d.deploymentFor(color, spec, time.Now())
	// The deployment controller writes the status as it goes (a color
	// just stopped has pods terminating): a conflicting write is retried
	// on the fresh object.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := api.Get(ctx, want.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			made, err := api.Create(ctx, want, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create deployment %s: %w", want.Name, err)
			}
			fresh, gen = true, made.Generation
			return nil
		case err != nil:
			return fmt.Errorf("read deployment %s: %w", want.Name, err)
		}
		if running(cur) {
			if cur.Annotations[AnnotationRelease] == spec.Version && image(cur) == spec.Image {
				fresh, gen = false, cur.Generation
				return nil
			}
			return fmt.Errorf("%w: %s runs there (stop it first)", runtime.ErrBusy, cur.Annotations[AnnotationRelease])
		}
		// A stopped color (scaled to zero) keeps its Deployment: it gets
		// the new template, replicas and labels; its selector never changes.
		want.ResourceVersion = cur.ResourceVersion
		made, err := api.Update(ctx, want, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("update deployment %s: %w", want.Name, err)
		}
		fresh, gen = true, made.Generation
		return nil
	})
	return fresh, gen, err
}

func (d *Driver) ensureService(ctx context.Context, color string) error {
	svc := d.serviceFor(color)
	_, err := d.client.CoreV1().Services(d.opts.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service %s: %w", svc.Name, err)
	}
	return nil
}

// waitReady waits, on the watches, until the rollout of the color's
// Deployment generation gen (or later) is done and its EndpointSlices list
// every replica ready.
func (d *Driver) waitReady(ctx context.Context, color string, gen int64) (runtime.Instance, error) {
	last := "the deployment not seen yet"
	for {
		changed := d.changes()
		dep := d.deployment(color)
		if dep != nil && dep.Generation >= gen {
			done, failed, state := rolloutState(dep)
			if failed != "" {
				return runtime.Instance{}, errors.New(failed)
			}
			last = state
			if done {
				addrs := d.Addrs(color)
				if len(addrs) > 0 && len(addrs) >= int(*dep.Spec.Replicas) {
					return d.instance(color, dep, addrs), nil
				}
				last = fmt.Sprintf("rollout done, %d of %d pods in the endpoints", len(addrs), *dep.Spec.Replicas)
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return runtime.Instance{}, fmt.Errorf("not ready after %s: %s", d.opts.StartTimeout+progressGrace, last)
			}
			return runtime.Instance{}, ctx.Err()
		}
	}
}

// rolloutState judges a Deployment as `kubectl rollout status` does:
// done once the controller saw the latest spec and every replica is
// updated and available with no pod of an older template left; failed
// (with the controller's reason) once it exceeded its progress deadline.
// state says where it is, for an error.
func rolloutState(dep *appsv1.Deployment) (done bool, failed, state string) {
	st := dep.Status
	if dep.Generation > st.ObservedGeneration {
		return false, "", "waiting for the deployment controller"
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return false, fmt.Sprintf("%s: %s", c.Reason, c.Message), ""
		}
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	switch {
	case st.UpdatedReplicas < want:
		return false, "", fmt.Sprintf("%d of %d pods updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return false, "", fmt.Sprintf("%d pods of the previous release terminating", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		return false, "", fmt.Sprintf("%d of %d pods ready", st.AvailableReplicas, want)
	}
	return true, "", "rollout done"
}

// remove scales the color to zero, waits (on the watch) for its pods to
// be gone, then deletes its Deployment and Service: a failed rollout
// leaves nothing behind. The scale-down first makes that hold even where
// no garbage collector removes a deleted Deployment's ReplicaSet and pods
// at once.
func (d *Driver) remove(ctx context.Context, color string) error {
	gen, err := d.scale(ctx, color, 0)
	if err != nil {
		return err
	}
	for {
		changed := d.changes()
		dep := d.deployment(color)
		if dep == nil || (dep.Generation >= gen && dep.Status.ObservedGeneration >= dep.Generation && dep.Status.Replicas == 0) {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("pods of %s not gone: %w", d.name(color), ctx.Err())
		}
	}
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	var errs []error
	if err := d.client.AppsV1().Deployments(d.opts.Namespace).Delete(ctx, d.name(color), del); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete deployment %s: %w", d.name(color), err))
	}
	if err := d.client.CoreV1().Services(d.opts.Namespace).Delete(ctx, d.name(color), del); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete service %s: %w", d.name(color), err))
	}
	return errors.Join(errs...)
}

// running reports whether dep asks for pods.
func running(dep *appsv1.Deployment) bool {
	return dep.Spec.Replicas == nil || *dep.Spec.Replicas > 0
}

func image(dep *appsv1.Deployment) string {
	for _, c := range dep.Spec.Template.Spec.Containers {
		if c.Name == containerName {
			return c.Image
		}
	}
	return ""
}

// instance is what Start and Instance report for a running color.
func (d *Driver) instance(color string, dep *appsv1.Deployment, addrs []string) runtime.Instance {
	started, _ := time.Parse(time.RFC3339, dep.Annotations[AnnotationStarted])
	if started.IsZero() {
		started = dep.CreationTimestamp.UTC()
	}
	inst := runtime.Instance{Color: color, Version: dep.Annotations[AnnotationRelease], Addr: addrs[0], Started: started,
		// The routers follow the color's Service themselves: a pod that
		// restarts elsewhere needs no new routing table (ADR 0017).
		Upstream: router.Ref{Namespace: d.opts.Namespace, Service: d.name(color), Port: portName}.String()}
	if len(addrs) > 1 {
		inst.Addrs = addrs // every ready pod: the router balances across them
	}
	return inst
}

// RunsImages reports true: the driver runs releases that are container
// images (runtime.Spec.Image), and nothing else (deploy.ImageRunner).
func (d *Driver) RunsImages() bool { return true }
