package router

import "maps"

// Table is the routing state: which color is live and the upstream address
// ("127.0.0.1:port", "" = none) of each color.
type Table struct {
	Live      Color            `json:"live"`
	Upstreams map[Color]string `json:"upstreams"`
}

// clone returns a deep copy, so callers never share the map a snapshot reads.
func (t Table) clone() Table {
	t.Upstreams = maps.Clone(t.Upstreams)
	if t.Upstreams == nil {
		t.Upstreams = map[Color]string{}
	}
	return t
}

// snapshot is one immutable routing state. The request path reads it through
// an atomic pointer and never mutates it; writers build a new one.
type snapshot struct {
	table Table
	live  int          // slot of the live color
	ups   [2]*upstream // by slot; nil when the color has no upstream
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
