// Package kubernetes is the runtime driver for a Kubernetes cluster: each
// color is a Deployment "<app>-<color>" of the release's image, with a
// headless Service of the same name whose EndpointSlices list the color's
// ready pods. Kubernetes schedules, restarts and scales the pods; the
// driver creates and updates the two objects, waits for the Deployment to
// report its rollout done, and reports the color's addresses from the
// EndpointSlices. It follows the cluster through informers (watches), never
// by polling, and needs rights in its own namespace only. RunJob runs a
// release's image to completion as a Job: the user's migration tool, which
// is in the image.
package kubernetes

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bascule/bascule/internal/runtime"
)

// Labels and annotations the driver puts on what it creates. Adopt finds
// a previous run's Deployments by the first two.
const (
	LabelApp       = "app.kubernetes.io/name"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelColor     = "bascule.dev/color"
	// LabelRelease is the release version where it is a valid label value,
	// else a sanitized form of it; AnnotationRelease holds it exactly.
	LabelRelease      = "bascule.dev/release"
	AnnotationRelease = "bascule.dev/release"
	// AnnotationStarted is when Start last rolled the color out (RFC 3339).
	AnnotationStarted = "bascule.dev/started-at"
	// AnnotationScaleDownAt is when an idle color is to be scaled to zero
	// (RFC 3339); it is on the Deployment, not in memory, so that a
	// restarted bascule keeps the promise.
	AnnotationScaleDownAt = "bascule.dev/scale-down-at"

	managedBy     = "bascule"
	containerName = "app"
	portName      = "http"
)

// Options configure a Driver. Client, Namespace and Image-carrying specs
// are required; zero values of the others take the documented defaults.
type Options struct {
	// Client talks to the API server; see RESTConfig.
	Client kubernetes.Interface
	// Namespace holds the Deployments and Services; required.
	Namespace string
	// App names the objects "<app>-<color>"; default "app".
	App string
	// Replicas is the pod count of a running color; default 1.
	Replicas int32
	// Port is the container port the app listens on (it gets it in PORT);
	// default 8080.
	Port int32
	// Requests and Limits are the container's resources, as quantities
	// such as {"cpu": "250m", "memory": "128Mi"}.
	Requests, Limits map[string]string
	// Health becomes the pods' readiness probe (an HTTP GET of its path).
	Health runtime.HealthCheck
	// StartTimeout is the Deployment's progress deadline (the longest a
	// rollout may go without progress), and bounds Start with a few
	// seconds' grace; default 60s.
	StartTimeout time.Duration
	// StopTimeout is the pods' termination grace period; default 30s.
	StopTimeout time.Duration
	// IdleScaleDown is how long an idle color stays warm after
	// ScaleDownLater; zero scales it down at once.
	IdleScaleDown time.Duration
	// Live reports the color that serves production, so that a scale-down
	// that fell due never takes that one; nil means none is protected.
	Live func() string
	// Logger gets what the driver does on its own (scale-downs); nil
	// discards it.
	Logger *slog.Logger
}

// Driver runs releases as Deployments. Its methods are safe for
// concurrent use.
type Driver struct {
	opts      Options
	resources corev1.ResourceRequirements
	client    kubernetes.Interface
	log       *slog.Logger

	deps   appslisters.DeploymentNamespaceLister
	slices discoverylisters.EndpointSliceNamespaceLister

	stop    context.CancelFunc
	wg      sync.WaitGroup
	kick    chan struct{} // wakes the idle scale-down reconciler
	closing sync.Once

	mu      sync.Mutex
	changed chan struct{}            // closed and replaced at every watched change
	exited  map[string]chan struct{} // per color, closed when it stops running
	timers  map[string]*time.Timer   // per color, for its scale-down
}

// NewClient returns a client of the API server: through the pod's service
// account when kubeconfig is "" (bascule runs in the cluster), else through
// the file's current context.
func NewClient(kubeconfig string) (kubernetes.Interface, error) {
	rc, err := RESTConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return c, nil
}

// RESTConfig returns the client configuration NewClient uses.
func RESTConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		c, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes in-cluster config (set runtime.kubernetes.kubeconfig when bascule runs outside the cluster): %w", err)
		}
		return c, nil
	}
	c, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubernetes config %s: %w", kubeconfig, err)
	}
	return c, nil
}

// New starts watching the namespace's Deployments of the app and the
// EndpointSlices of its two Services, and returns once the watches have
// caught up (or ctx ends). Close stops them.
func New(ctx context.Context, opts Options) (*Driver, error) {
	if opts.Client == nil || opts.Namespace == "" {
		return nil, fmt.Errorf("kubernetes driver: a client and a namespace are required")
	}
	opts = withDefaults(opts)
	res, err := resources(opts.Requests, opts.Limits)
	if err != nil {
		return nil, fmt.Errorf("kubernetes driver: %w", err)
	}
	d := &Driver{opts: opts, resources: res, client: opts.Client, log: opts.Logger, kick: make(chan struct{}, 1),
		changed: make(chan struct{}), exited: map[string]chan struct{}{}, timers: map[string]*time.Timer{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	own := labels.Set{LabelApp: opts.App, LabelManagedBy: managedBy}.String()
	depFactory := informers.NewSharedInformerFactoryWithOptions(opts.Client, 0, informers.WithNamespace(opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = own }))
	// The EndpointSlice controller labels every slice with its Service's
	// name; our Services' own labels are copied too, but the name is the
	// label Kubernetes guarantees.
	sliceSel := fmt.Sprintf("%s in (%s,%s)", discoveryv1.LabelServiceName, d.name(runtime.Blue), d.name(runtime.Green))
	sliceFactory := informers.NewSharedInformerFactoryWithOptions(opts.Client, 0, informers.WithNamespace(opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sliceSel }))
	depInf := depFactory.Apps().V1().Deployments()
	sliceInf := sliceFactory.Discovery().V1().EndpointSlices()
	d.deps = depInf.Lister().Deployments(opts.Namespace)
	d.slices = sliceInf.Lister().EndpointSlices(opts.Namespace)
	onChange := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { d.notify() },
		UpdateFunc: func(any, any) { d.notify() },
		DeleteFunc: func(any) { d.notify() },
	}
	if _, err := depInf.Informer().AddEventHandler(onChange); err != nil {
		return nil, fmt.Errorf("watch deployments: %w", err)
	}
	if _, err := sliceInf.Informer().AddEventHandler(onChange); err != nil {
		return nil, fmt.Errorf("watch endpointslices: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	d.stop = func() { cancel(); depFactory.Shutdown(); sliceFactory.Shutdown() }
	depFactory.StartWithContext(wctx)
	sliceFactory.StartWithContext(wctx)
	for _, f := range []informers.SharedInformerFactory{depFactory, sliceFactory} {
		if err := f.WaitForCacheSyncWithContext(ctx).AsError(); err != nil {
			d.Close()
			return nil, fmt.Errorf("kubernetes driver: watch namespace %s: %w", opts.Namespace, err)
		}
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.reconcileIdle(wctx)
	}()
	d.notify()
	return d, nil
}

func withDefaults(o Options) Options {
	if o.App == "" {
		o.App = "app"
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Port <= 0 {
		o.Port = 8080
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 30 * time.Second
	}
	return o
}

// Close stops the watches and the scale-down timers. What runs in the
// cluster keeps running: a restarted bascule adopts it.
func (d *Driver) Close() error {
	d.closing.Do(func() {
		d.stop()
		d.wg.Wait()
		d.mu.Lock()
		for _, t := range d.timers {
			t.Stop()
		}
		d.mu.Unlock()
	})
	return nil
}

// name is the Deployment's and the Service's name for color.
func (d *Driver) name(color string) string { return d.opts.App + "-" + color }

// selector is what a color's pods carry whatever their release: the
// Deployment's (immutable) selector and the Service's.
func (d *Driver) selector(color string) map[string]string {
	return map[string]string{LabelApp: d.opts.App, LabelManagedBy: managedBy, LabelColor: color}
}

// notify wakes everyone waiting for a change, and the idle reconciler.
func (d *Driver) notify() {
	d.mu.Lock()
	close(d.changed)
	d.changed = make(chan struct{})
	d.closeExited()
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// changes returns a channel closed at the next watched change.
func (d *Driver) changes() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.changed
}

// deployment returns the color's Deployment from the watch cache, nil if
// there is none. The object is shared: never modify it.
func (d *Driver) deployment(color string) *appsv1.Deployment {
	dep, err := d.deps.Get(d.name(color))
	if err != nil {
		return nil
	}
	return dep
}

func checkColor(color string) error {
	if color != runtime.Blue && color != runtime.Green {
		return fmt.Errorf("%w %q", runtime.ErrUnknownColor, color)
	}
	return nil
}

// resources parses the container's requests and limits.
func resources(requests, limits map[string]string) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	var err error
	if out.Requests, err = resourceList("requests", requests); err != nil {
		return out, err
	}
	out.Limits, err = resourceList("limits", limits)
	return out, err
}

func resourceList(what string, in map[string]string) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	for name, v := range in {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("resources.%s.%s: %q: %w", what, name, v, err)
		}
		out[corev1.ResourceName(name)] = q
	}
	return out, nil
}
