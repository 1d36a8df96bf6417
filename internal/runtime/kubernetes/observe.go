package kubernetes

import (
	"context"
	"net"
	"slices"
	"strconv"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bascule/bascule/internal/runtime"
)

// Instance reports the color when its Deployment asks for pods and at
// least one of them is ready in the EndpointSlices. Addr is the first of
// Addrs: until runtime.Instance carries every address, the router
// proxies to that one pod.
func (d *Driver) Instance(color string) (runtime.Instance, bool) {
	dep := d.deployment(color)
	if dep == nil || !running(dep) {
		return runtime.Instance{}, false
	}
	addrs := d.Addrs(color)
	if len(addrs) == 0 {
		return runtime.Instance{}, false
	}
	return d.instance(color, dep, addrs), true
}

// Addrs returns the "ip:port" of every ready pod of color, sorted, as the
// color's EndpointSlices list them (from the watch). Endpoints that are
// not ready, or terminating, are left out.
func (d *Driver) Addrs(color string) []string {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: d.name(color)})
	list, err := d.slices.List(sel)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range list {
		port := slicePort(s)
		if port == 0 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			if ep.Conditions.Terminating != nil && *ep.Conditions.Terminating {
				continue
			}
			for _, ip := range ep.Addresses {
				out = append(out, net.JoinHostPort(ip, strconv.Itoa(int(port))))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// slicePort is the slice's port of our named container port, 0 when the
// slice has none yet.
func slicePort(s *discoveryv1.EndpointSlice) int32 {
	for _, p := range s.Ports {
		if p.Port != nil && (p.Name == nil || *p.Name == portName) {
			return *p.Port
		}
	}
	return 0
}

// Exited returns a channel closed when the color stops running (scaled to
// zero or deleted, by bascule or by someone else), or nil when it does not
// run. Pods that crash are Kubernetes' to restart: they close nothing.
func (d *Driver) Exited(color string) <-chan struct{} {
	dep := d.deployment(color)
	if dep == nil || !running(dep) {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ch, ok := d.exited[color]
	if !ok {
		ch = make(chan struct{})
		d.exited[color] = ch
	}
	return ch
}

// closeExited closes the exit channels of the colors that no longer run.
// The caller holds d.mu.
func (d *Driver) closeExited() {
	for color, ch := range d.exited {
		if dep := d.deployment(color); dep == nil || !running(dep) {
			close(ch)
			delete(d.exited, color)
		}
	}
}

// Adopt reports the colors a previous run left running, found by label,
// sorted by color: their Deployments ask for pods and some are ready. It
// also takes over the scale-downs they were promised.
func (d *Driver) Adopt(ctx context.Context) ([]runtime.Instance, error) {
	var out []runtime.Instance
	for _, color := range runtime.Colors() {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if inst, ok := d.Instance(color); ok {
			out = append(out, inst)
		}
	}
	d.notify() // the idle reconciler re-arms the promised scale-downs
	return out, nil
}
