// Package endpoints follows the EndpointSlices of one Kubernetes namespace
// for a router that runs in the cluster, and expands the references of its
// routing table ("k8s:NAMESPACE/SERVICE:PORT", router.Ref) into the
// addresses of the Service's ready pods. A pod that restarts with a new
// address, a scale-up or a pod that fails its readiness probe reaches the
// router through the watch, without the control plane; which color is live
// stays the control plane's decision (docs/adr/0017-routers-in-the-cluster.md).
package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/bascule/bascule/internal/router"
)

// Options configure a Watcher; Client and Namespace are required.
type Options struct {
	// Client talks to the API server; it needs list and watch of
	// EndpointSlices in Namespace (deploy/kubernetes/rbac.yaml).
	Client kubernetes.Interface
	// Namespace is the only namespace watched: references to another are
	// refused.
	Namespace string
	// Logger gets the watch's troubles; nil discards.
	Logger *slog.Logger
}

// Watcher follows a namespace's EndpointSlices through an informer (a
// watch, never polling) and resolves references from its cache. Its
// methods are safe for concurrent use.
type Watcher struct {
	ns      string
	log     *slog.Logger
	factory informers.SharedInformerFactory
	synced  cache.InformerSynced
	slices  discoverylisters.EndpointSliceNamespaceLister
	cancel  context.CancelFunc

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change of a slice
}

var _ router.Resolver = (*Watcher)(nil)

// Start starts watching the namespace's EndpointSlices and returns at
// once; WaitSynced waits for the first listing. Close stops the watch.
func Start(opts Options) (*Watcher, error) {
	if opts.Client == nil || opts.Namespace == "" {
		return nil, fmt.Errorf("endpoints: a client and a namespace are required")
	}
	w := &Watcher{ns: opts.Namespace, log: opts.Logger, changed: make(chan struct{})}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.factory = informers.NewSharedInformerFactoryWithOptions(opts.Client, 0, informers.WithNamespace(opts.Namespace))
	inf := w.factory.Discovery().V1().EndpointSlices()
	w.slices = inf.Lister().EndpointSlices(opts.Namespace)
	reg, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.notify() },
		UpdateFunc: func(any, any) { w.notify() },
		DeleteFunc: func(any) { w.notify() },
	})
	if err != nil {
		return nil, fmt.Errorf("watch endpointslices of %s: %w", opts.Namespace, err)
	}
	w.synced = reg.HasSynced
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.factory.StartWithContext(ctx)
	return w, nil
}

// WaitSynced waits until the watch has listed the namespace (and its
// handler seen every slice of that listing), or ctx ends.
func (w *Watcher) WaitSynced(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), w.synced) {
		return fmt.Errorf("list endpointslices of namespace %s: %w", w.ns, context.Cause(ctx))
	}
	return nil
}

// Close stops the watch.
func (w *Watcher) Close() {
	w.cancel()
	w.factory.Shutdown()
}

func (w *Watcher) notify() {
	w.mu.Lock()
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

// Run calls onChange once, then after every change of a slice of the
// namespace (changes that come together make one call), until ctx ends.
// A router passes its Refresh.
func (w *Watcher) Run(ctx context.Context, onChange func()) {
	for {
		w.mu.Lock()
		changed := w.changed
		w.mu.Unlock()
		onChange()
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// Resolve returns the "ip:port" of ref's endpoints that take new requests,
// sorted: those ready; when none is, those still serving while they
// terminate (as kube-proxy falls back to them), so that a color whose last
// pods are being replaced keeps answering through their grace period
// rather than failing. An endpoint not ready and not terminating (its
// readiness probe fails) is never used. It returns an error for a
// reference to another namespace than the one watched; nil addresses for
// a Service with no endpoint (yet).
func (w *Watcher) Resolve(ref router.Ref) ([]string, error) {
	if ref.Namespace != w.ns {
		return nil, fmt.Errorf("resolve %s: this router watches namespace %s only", ref, w.ns)
	}
	list, err := w.slices.List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: ref.Service}))
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", ref, err)
	}
	var ready, terminating []string
	for _, s := range list {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(s, ref.Port)
		if !ok {
			continue
		}
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			// Every address of an endpoint is the same pod; the API says
			// the first may be used alone.
			addr := net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(port)))
			switch state(ep.Conditions) {
			case usable:
				ready = append(ready, addr)
			case draining:
				terminating = append(terminating, addr)
			}
		}
	}
	out := ready
	if len(out) == 0 {
		out = terminating
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

type endpointState int

const (
	unusable endpointState = iota // not ready and not terminating: never
	usable                        // ready
	draining                      // terminating but still serving: only when no pod is ready
)

// state reads an endpoint's conditions as the API defines them: ready
// unset means ready; serving unset means as ready; terminating unset means
// not terminating.
func state(c discoveryv1.EndpointConditions) endpointState {
	ready := c.Ready == nil || *c.Ready
	serving := ready
	if c.Serving != nil {
		serving = *c.Serving
	}
	terminating := c.Terminating != nil && *c.Terminating
	switch {
	case ready && !terminating:
		return usable
	case serving && terminating:
		return draining
	}
	return unusable
}

// slicePort returns the slice's port that want names: the Service port's
// name, or the endpoints' port number.
func slicePort(s *discoveryv1.EndpointSlice, want string) (int32, bool) {
	n, numErr := strconv.Atoi(want)
	for _, p := range s.Ports {
		if p.Port == nil {
			continue
		}
		if numErr == nil && int(*p.Port) == n || p.Name != nil && *p.Name == want {
			return *p.Port, true
		}
	}
	return 0, false
}
