package router

import (
	"encoding/json"
	"fmt"
	"maps"
)

// Table is the routing state: which color is live, the upstream of each
// color ("" = none), and, during a progressive go-live, the share of
// production the other color gets. A color's upstream is the address of its
// instance ("127.0.0.1:port"), or of its instances joined by commas
// (JoinAddrs): one string per color, which InFlight, Queued, Upgraded and
// Drain accept as it is. Generation numbers the tables a control plane
// publishes to its routers, each greater than the last; the router keeps
// it and otherwise ignores it.
type Table struct {
	Generation int64            `json:"generation,omitempty"`
	Live       Color            `json:"live"`
	Upstreams  map[Color]string `json:"upstreams"`
	Split      *Split           `json:"split,omitempty"`
}

// tableJSON is Table's JSON form: a color's upstream is a string when it is
// one instance, as bascule wrote it before colors had several, and a list
// of addresses when it is several.
type tableJSON struct {
	Generation int64                     `json:"generation,omitempty"`
	Live       Color                     `json:"live"`
	Upstreams  map[Color]json.RawMessage `json:"upstreams"`
	Split      *Split                    `json:"split,omitempty"`
}

// MarshalJSON writes each color's upstream as a string (one instance) or a
// list of addresses (several).
func (t Table) MarshalJSON() ([]byte, error) {
	out := tableJSON{Generation: t.Generation, Live: t.Live, Split: t.Split, Upstreams: make(map[Color]json.RawMessage, len(t.Upstreams))}
	for c, s := range t.Upstreams {
		var v any = s
		if addrs := SplitAddrs(s); len(addrs) > 1 {
			v = addrs
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode upstream of %s: %w", c, err)
		}
		out.Upstreams[c] = b
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a color's upstream as a string or a list of
// addresses. As with encoding/json's own decoding, fields absent from the
// JSON keep their value in t, and upstreams are added to t's map.
func (t *Table) UnmarshalJSON(b []byte) error {
	in := tableJSON{Generation: t.Generation, Live: t.Live, Split: t.Split}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	ups := make(map[Color]string, len(in.Upstreams))
	for c, raw := range in.Upstreams {
		var one string
		if err := json.Unmarshal(raw, &one); err == nil {
			ups[c] = JoinAddrs([]string{one})
			continue
		}
		var several []string
		if err := json.Unmarshal(raw, &several); err != nil {
			return fmt.Errorf("upstream of %s: want an address or a list of addresses, got %s", c, raw)
		}
		ups[c] = JoinAddrs(several)
	}
	t.Generation, t.Live, t.Split = in.Generation, in.Live, in.Split
	if in.Upstreams != nil && t.Upstreams == nil {
		t.Upstreams = make(map[Color]string, len(ups))
	}
	for c, s := range ups {
		t.Upstreams[c] = s
	}
	return nil
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

// Normalized returns a copy of t as a router holds it once installed:
// each color's instances in JoinAddrs form, a color without any left out.
// A table persisted in this form is the table a restart serves.
func (t Table) Normalized() Table {
	out := t.clone()
	for c, addr := range out.Upstreams {
		if addrs := SplitAddrs(addr); addrs != nil {
			out.Upstreams[c] = JoinAddrs(addrs)
		} else {
			delete(out.Upstreams, c)
		}
	}
	return out
}

// snapshot is one immutable routing state. The request path reads it through
// an atomic pointer and never mutates it; writers build a new one.
type snapshot struct {
	table Table
	live  int          // slot of the live color
	ups   [2]*colorSet // by slot; nil when the color has no upstream
	split *splitRule   // nil unless a progressive go-live sends a share to the other color
}

// colorOf reports which color routes to u, and whether it is the live one.
func (s *snapshot) colorOf(u *upstream) (c Color, live, ok bool) {
	for i, v := range s.ups {
		if v.has(u) {
			return slotColor(i), i == s.live, true
		}
	}
	return "", false, false
}

// setOf returns the set of the color that routes to u, the live one first;
// nil when neither does.
func (s *snapshot) setOf(u *upstream) *colorSet {
	if cs := s.ups[s.live]; cs.has(u) {
		return cs
	}
	if cs := s.ups[1-s.live]; cs.has(u) {
		return cs
	}
	return nil
}

// references reports whether any color of s routes to u.
func (s *snapshot) references(u *upstream) bool {
	return s.ups[0].has(u) || s.ups[1].has(u)
}
