package feature

import (
	"slices"
)

// Clone returns a deep copy of f, which the caller may change freely. The
// flags of a Snapshot must not be modified: to edit one, clone it and build
// a new snapshot.
func (f *Flag) Clone() *Flag {
	if f == nil {
		return nil
	}
	n := *f
	if f.Variants != nil {
		n.Variants = CloneValue(f.Variants).(map[string]any)
	}
	n.Rules = nil
	for _, r := range f.Rules {
		r.Split = slices.Clone(r.Split)
		n.Rules = append(n.Rules, r)
	}
	if f.Prerequisite != nil {
		p := *f.Prerequisite
		n.Prerequisite = &p
	}
	n.Schedule = nil
	for _, st := range f.Schedule {
		n.Schedule = append(n.Schedule, Step{At: st.At, Split: slices.Clone(st.Split)})
	}
	return &n
}

// Clone returns a deep copy of s, which the caller may change freely.
func (s *Segment) Clone() *Segment {
	if s == nil {
		return nil
	}
	n := *s
	n.Keys = slices.Clone(s.Keys)
	n.Conditions = nil
	for _, c := range s.Conditions {
		c.Values = slices.Clone(c.Values)
		n.Conditions = append(n.Conditions, c)
	}
	return &n
}

// CloneValue deep-copies a variant value: objects and lists are copied,
// everything else is immutable. The SDK hands object values out through it,
// so an application cannot change the snapshot it evaluates from.
func CloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = CloneValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = CloneValue(e)
		}
		return out
	}
	return v
}
