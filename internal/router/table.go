package router

import "maps"

// Table is the routing state: which color is live, the upstream address
// ("127.0.0.1:port", "" = none) of each color, and, during a progressive
// go-live, the share of production the other color gets. Generation
// numbers the tables a control plane publishes to its routers, each
// greater than the last; the router keeps it and otherwise ignores it.
type Table struct {
	Generation int64            `json:"generation,omitempty"`
	Live       Color            `json:"live"`
	Upstreams  map[Color]string `json:"upstreams"`
	Split      *Split           `json:"split,omitempty"`
}

// clone returns a deep copy, so callers never share the map a snapshot reads.
func (t Table) clone() Table {
	t.Upstreams = maps.Clone(t.Upstreams)
	if t.Upstreams == nil {
		t.Upstreams = map[Color]string{}
	}
	if t.Split != nil {
		sp := *t.Split
		t.Split = &sp
	}
	return t
}

// snapshot is one immutable routing state. The request path reads it through
// an atomic pointer and never mutates it; writers build a new one.
type snapshot struct {
	table Table
	live  int          // slot of the live color
	ups   [2]*upstream // by slot; nil when the color has no upstream
	split *splitRule   // nil unless a progressive go-live sends a share to the other color
}

// colorOf reports which color routes to u, and whether it is the live one.
func (s *snapshot) colorOf(u *upstream) (c Color, live, ok bool) {
	for i, v := range s.ups {
		if v == u {
			return slotColor(i), i == s.live, true
		}
	}
	return "", false, false
}

// references reports whether any color of s routes to u.
func (s *snapshot) references(u *upstream) bool {
	return s.ups[0] == u || s.ups[1] == u
}
