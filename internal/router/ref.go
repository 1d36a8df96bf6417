package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A color's upstream in a Table may be a reference instead of addresses:
// "k8s:NAMESPACE/SERVICE:PORT" names the ready endpoints of a Kubernetes
// Service, which the router expands itself through its Options.Resolver
// (one that follows the Service's EndpointSlices) and keeps expanding as
// pods come, go and change address, with no new table from the control
// plane. The control plane still decides which color is live; the router
// decides, from the cluster, which pods make up a color at this moment
// (docs/adr/0017-routers-in-the-cluster.md).

// refScheme starts every reference; addresses ("host:port") never do, as
// "k8s" followed by a namespace and a slash is no port.
const refScheme = "k8s:"

// ErrNoResolver is returned (wrapped) by CheckTable for a table with a
// reference, by a router that has no Options.Resolver to expand it.
var ErrNoResolver = errors.New("this router resolves no references: run it in the cluster (bascule router --kubernetes, or --kubeconfig PATH)")

// Ref names the ready endpoints of a Kubernetes Service: Port is the name
// of the Service's port (as its EndpointSlices name it), or the endpoints'
// port number.
type Ref struct {
	Namespace, Service, Port string
}

// String returns the reference as a Table writes it.
func (r Ref) String() string {
	return refScheme + r.Namespace + "/" + r.Service + ":" + r.Port
}

// IsRef reports whether a Table's upstream string is a reference rather
// than addresses.
func IsRef(upstream string) bool {
	return strings.HasPrefix(strings.TrimSpace(upstream), refScheme)
}

// ParseRef parses "k8s:NAMESPACE/SERVICE:PORT".
func ParseRef(s string) (Ref, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), refScheme)
	if !ok {
		return Ref{}, fmt.Errorf("parse reference %q: want %sNAMESPACE/SERVICE:PORT", s, refScheme)
	}
	ns, svcPort, ok1 := strings.Cut(rest, "/")
	svc, port, ok2 := strings.Cut(svcPort, ":")
	if !ok1 || !ok2 || !kubeName(ns) || !kubeName(svc) || !kubeName(port) {
		return Ref{}, fmt.Errorf("parse reference %q: want %sNAMESPACE/SERVICE:PORT (lower-case letters, digits, '-' and '.')", s, refScheme)
	}
	return Ref{Namespace: ns, Service: svc, Port: port}, nil
}

// kubeName reports whether s is made only of what Kubernetes allows in
// the names of namespaces, Services and ports.
func kubeName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Resolver expands references into the addresses ("ip:port") of their
// ready instances. Resolve returns them as they are now (nil when there is
// none) or an error when it cannot follow ref at all (another namespace
// than the one it watches, say). The router calls it when it installs a
// table and at every Refresh, never on the request path; it must not call
// back into the router.
type Resolver interface {
	Resolve(ref Ref) ([]string, error)
}

// checkRef returns why the router cannot serve upstream when it is a
// reference, or nil; addresses are always fine.
func (r *Router) checkRef(c Color, upstream string) error {
	parts := SplitAddrs(upstream)
	if !slices.ContainsFunc(parts, IsRef) {
		return nil
	}
	if len(parts) > 1 {
		return fmt.Errorf("table: upstream of %s: a reference stands alone, not among addresses: %q", c, upstream)
	}
	ref, err := ParseRef(parts[0])
	if err != nil {
		return fmt.Errorf("table: upstream of %s: %w", c, err)
	}
	if r.resolver == nil {
		return fmt.Errorf("table: upstream of %s is %s: %w", c, ref, ErrNoResolver)
	}
	if _, err := r.resolver.Resolve(ref); err != nil {
		return fmt.Errorf("table: upstream of %s: %w", c, err)
	}
	return nil
}

// expand returns the addresses a table's upstream string routes to now:
// its own, or what the resolver makes of a reference (nil when it cannot).
// r.mu must be held.
func (r *Router) expand(key string) []string {
	if !IsRef(key) {
		return SplitAddrs(key)
	}
	ref, err := ParseRef(key)
	if err != nil || r.resolver == nil {
		r.log.Error("upstream not resolved: no instance to send its requests to", "upstream", key, "err", cmpErr(err, ErrNoResolver))
		return nil
	}
	addrs, err := r.resolver.Resolve(ref)
	if err != nil {
		r.log.Error("upstream not resolved: no instance to send its requests to", "upstream", key, "err", err)
		return nil
	}
	return cleanAddrs(addrs)
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Addrs returns the addresses a Table's upstream string routes new
// requests to now: its own addresses, or the current expansion of a
// reference (nil while it has no ready instance).
func (r *Router) Addrs(upstream string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cs := range r.snap.Load().ups {
		if cs != nil && cs.key == JoinAddrs(SplitAddrs(upstream)) {
			return cs.addrs()
		}
	}
	return r.expand(upstream)
}

// Refresh expands the references of the current table again and, when any
// names other instances than before, publishes the same table over them:
// new requests go to the new set at once, requests in flight finish where
// they are, and Drain and InFlight of the reference still count those
// (lookup). A resolver's owner calls it after every change it sees.
func (r *Router) Refresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.snap.Load()
	changed := false
	for c, key := range s.table.Upstreams {
		if !IsRef(key) {
			continue
		}
		i, _ := c.slot()
		now := r.expand(key)
		if !slices.Equal(now, s.ups[i].addrs()) {
			r.log.Info("instances changed", "color", c, "upstream", key, "addrs", strings.Join(now, ","))
			changed = true
		}
	}
	if changed {
		r.publish(s.table)
	}
}

// addrs returns the set's addresses in order; nil for a nil set.
func (cs *colorSet) addrs() []string {
	if cs == nil {
		return nil
	}
	out := make([]string, len(cs.ups))
	for i, u := range cs.ups {
		out[i] = u.addr
	}
	return out
}
