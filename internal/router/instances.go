package router

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// A color runs on one or more instances. The routing table names them in one
// string per color, their addresses joined by commas ("10.0.0.1:8080,
// 10.0.0.2:8080"), so that a color's upstream stays one value that callers
// compare, persist, drain and count by (see docs/adr/0012-instances-per-color.md).

// JoinAddrs returns the table's form of a color's instances: the addresses,
// trimmed, without empty or repeated ones, joined by commas in their order.
func JoinAddrs(addrs []string) string {
	return strings.Join(cleanAddrs(addrs), ",")
}

// SplitAddrs returns the addresses of a table's upstream string, trimmed,
// without empty or repeated ones; nil for "".
func SplitAddrs(s string) []string {
	if s == "" {
		return nil
	}
	return cleanAddrs(strings.Split(s, ","))
}

func cleanAddrs(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// colorSet is one color's instances in a snapshot. It never changes once
// published.
type colorSet struct {
	key string      // the table's string for it (JoinAddrs)
	ups []*upstream // at least one, in the table's order
}

// pick chooses the instance for a new request. One instance is always the
// one (it is never skipped: there is nowhere else to go). With several, the
// power of two choices: of two instances drawn at random, the available one
// with fewer requests in flight, ties going to the first drawn; as good as
// scanning for the least loaded at a constant cost, and without the herd a
// strict least-loaded choice sends to one instance that just emptied.
func (cs *colorSet) pick() *upstream {
	n := len(cs.ups)
	if n == 1 {
		return cs.ups[0]
	}
	i := rand.IntN(n)
	j := rand.IntN(n - 1)
	if j >= i {
		j++
	}
	a, b := cs.ups[i], cs.ups[j]
	switch aok, bok := a.available(), b.available(); {
	case aok && bok:
		if b.inflight.Load() < a.inflight.Load() {
			return b
		}
		return a
	case aok:
		return a
	case bok:
		return b
	}
	return cs.fallback(0)
}

// fallback returns, of the instances whose bit in tried is not set, the
// available one with fewest requests in flight; when none is available, the
// one whose last failure is the oldest (the likeliest to have recovered),
// so that a color whose instances were all ejected is still tried rather
// than answered "no upstream". Nil when every instance was tried.
func (cs *colorSet) fallback(tried uint64) *upstream {
	var best, oldest *upstream
	for i, u := range cs.ups {
		if i < 64 && tried&(1<<i) != 0 {
			continue
		}
		if u.available() {
			if best == nil || u.inflight.Load() < best.inflight.Load() {
				best = u
			}
			continue
		}
		if oldest == nil || u.health.lastFail.Load() < oldest.health.lastFail.Load() {
			oldest = u
		}
	}
	if best != nil {
		return best
	}
	return oldest
}

// index returns the position of u in the set, or -1.
func (cs *colorSet) index(u *upstream) int {
	return slices.Index(cs.ups, u)
}

// has reports whether u is one of the set's instances.
func (cs *colorSet) has(u *upstream) bool {
	return cs != nil && cs.index(u) >= 0
}

// othersAvailable reports whether an instance of the set other than u may
// take traffic now.
func (cs *colorSet) othersAvailable(u *upstream) bool {
	for _, v := range cs.ups {
		if v != u && v.available() {
			return true
		}
	}
	return false
}

// newColorSet builds the set of the table string key, registering its
// upstreams: its addresses, or a reference's current expansion, each
// instance then remembering that it belongs to the reference (lookup).
// Nil when key has no instance. r.mu must be held.
func (r *Router) newColorSet(key string) *colorSet {
	addrs := r.expand(key)
	if len(addrs) == 0 {
		return nil
	}
	key = strings.Join(SplitAddrs(key), ",")
	cs := &colorSet{key: key, ups: make([]*upstream, len(addrs))}
	ref := IsRef(key)
	for i, a := range addrs {
		u := r.upstreamFor(a)
		if ref {
			if u.refs == nil {
				u.refs = map[string]bool{}
			}
			u.refs[key] = true
		}
		cs.ups[i] = u
	}
	return cs
}

// lookup returns the registered upstreams of a table string (one address
// or several); unknown addresses are left out. For a reference, every
// instance it has expanded to that the router still knows: those it names
// now, and those it named before that still have requests in flight (a
// pod that left the endpoints, or whose address changed), so that
// draining a color waits for all of its pods.
func (r *Router) lookup(key string) []*upstream {
	var out []*upstream
	r.mu.Lock()
	defer r.mu.Unlock()
	if IsRef(key) {
		key = strings.Join(SplitAddrs(key), ",")
		for _, u := range r.upstreams {
			if u.refs[key] {
				out = append(out, u)
			}
		}
		return out
	}
	for _, a := range SplitAddrs(key) {
		if u := r.upstreams[a]; u != nil {
			out = append(out, u)
		}
	}
	return out
}
