package fleet

import (
	"maps"

	"github.com/bascule/bascule/internal/router"
)

// This file is the one place that reads how a table names its upstreams.

// production returns the addresses t sends production to: the live
// color's, and the split's during a progressive go-live.
func production(t router.Table) map[string]bool {
	out := map[string]bool{}
	if a := t.Upstreams[t.Live]; a != "" {
		out[a] = true
	}
	if t.Split != nil && t.Upstreams[t.Split.To] != "" {
		out[t.Upstreams[t.Split.To]] = true
	}
	return out
}

// all returns every address t routes to, preview included.
func all(t router.Table) map[string]bool {
	out := map[string]bool{}
	for _, a := range t.Upstreams {
		if a != "" {
			out[a] = true
		}
	}
	return out
}

// toDrain returns the addresses a router must see empty after moving
// from prev to next: those left waiting from before, those prev sent
// production to and those it routed at all that next does not, minus
// next's own production.
func toDrain(pending map[string]bool, prev, next router.Table) map[string]bool {
	out := maps.Clone(pending)
	if out == nil {
		out = map[string]bool{}
	}
	maps.Copy(out, production(prev))
	now := all(next)
	for a := range all(prev) {
		if !now[a] {
			out[a] = true
		}
	}
	for a := range production(next) {
		delete(out, a)
	}
	return out
}

// loads reports each color's requests through r's counters.
func loads(t router.Table, r Target) map[router.Color]Load {
	out := map[router.Color]Load{}
	for c, a := range t.Upstreams {
		if a != "" {
			out[c] = Load{InFlight: r.InFlight(a), Queued: r.Queued(a)}
		}
	}
	return out
}

// clone returns a deep copy of t.
func clone(t router.Table) router.Table {
	t.Upstreams = maps.Clone(t.Upstreams)
	if t.Upstreams == nil {
		t.Upstreams = map[router.Color]string{}
	}
	if t.Split != nil {
		sp := *t.Split
		t.Split = &sp
	}
	return t
}
