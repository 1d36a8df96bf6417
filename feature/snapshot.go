package feature

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Snapshot is one consistent, immutable version of every flag and segment.
// Build it with NewSnapshot, which validates and precomputes what evaluation
// needs; after that it is safe for concurrent use and must not be modified
// (replace it with a new snapshot instead).
type Snapshot struct {
	Version  int64
	Flags    map[string]*Flag
	Segments map[string]*Segment

	compiled map[string]*compiledFlag
	keys     []string
}

// variant is a resolved variant name and value.
type variant struct {
	name  string
	value any
}

// compiledFlag is a Flag prepared for evaluation: variant names resolved to
// values, segments to pointers, splits to cumulative bounds.
type compiledFlag struct {
	key     string
	enabled bool
	static  bool // no rules, schedule or prerequisite: the default is static
	off     variant
	def     variant
	prefix  string // bucketPrefix(key, salt)
	rules   []compiledRule
	steps   []compiledStep
	prereq  *compiledFlag
	preVar  string
	preMsg  string
}

type compiledRule struct {
	seg   *compiledSegment // nil matches everyone
	v     variant          // served when split is empty
	split []bound
}

type compiledStep struct {
	at    time.Time
	split []bound
}

// NewSnapshot validates flags and segments together, fills in defaults (see
// Flag), and compiles them for evaluation. It copies its input, so the caller
// may reuse it. It returns a *ValidationError listing every problem found.
func NewSnapshot(version int64, flags []*Flag, segments []*Segment) (*Snapshot, error) {
	s := &Snapshot{
		Version:  version,
		Flags:    make(map[string]*Flag, len(flags)),
		Segments: make(map[string]*Segment, len(segments)),
	}
	nf := make([]*Flag, 0, len(flags))
	for _, f := range flags {
		nf = append(nf, normalizeFlag(f))
	}
	ns := make([]*Segment, 0, len(segments))
	for _, seg := range segments {
		ns = append(ns, normalizeSegment(seg))
	}
	if err := validate(nf, ns); err != nil {
		return nil, err
	}
	for _, f := range nf {
		s.Flags[f.Key] = f
	}
	for _, seg := range ns {
		s.Segments[seg.Key] = seg
	}
	s.compile()
	return s, nil
}

// Validate checks the snapshot's flags and segments as NewSnapshot does,
// defaults included. It is for snapshots assembled by hand; one returned by
// NewSnapshot is always valid.
func (s *Snapshot) Validate() error {
	flags := make([]*Flag, 0, len(s.Flags))
	var problems []Problem
	for _, k := range slices.Sorted(maps.Keys(s.Flags)) {
		f := s.Flags[k]
		if f != nil && f.Key != k {
			problems = append(problems, Problem{Kind: "flag", Key: k, Field: "key", Message: fmt.Sprintf("stored under %q but named %q", k, f.Key)})
		}
		flags = append(flags, normalizeFlag(f))
	}
	segs := make([]*Segment, 0, len(s.Segments))
	for _, k := range slices.Sorted(maps.Keys(s.Segments)) {
		segs = append(segs, normalizeSegment(s.Segments[k]))
	}
	err := validate(flags, segs)
	if ve, ok := err.(*ValidationError); ok {
		problems = append(problems, ve.Problems...)
	}
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

// FlagKeys returns the flag keys in sorted order. The slice is shared: callers
// must not modify it.
func (s *Snapshot) FlagKeys() []string {
	return s.keys
}

func (s *Snapshot) compile() {
	segs := make(map[string]*compiledSegment, len(s.Segments))
	for k, seg := range s.Segments {
		segs[k] = compileSegment(seg)
	}
	s.compiled = make(map[string]*compiledFlag, len(s.Flags))
	for k, f := range s.Flags {
		s.compiled[k] = compileFlag(f, segs)
	}
	for k, f := range s.Flags {
		if p := f.Prerequisite; p != nil {
			c := s.compiled[k]
			c.prereq = s.compiled[p.Flag]
			c.preVar = p.Variant
			c.preMsg = fmt.Sprintf("prerequisite %q is not %q", p.Flag, p.Variant)
		}
	}
	s.keys = slices.Sorted(maps.Keys(s.Flags))
}

func compileFlag(f *Flag, segs map[string]*compiledSegment) *compiledFlag {
	vars := make(map[string]variant, len(f.Variants))
	for name, v := range f.Variants {
		vars[name] = variant{name: name, value: v}
	}
	c := &compiledFlag{
		key:     f.Key,
		enabled: f.Enabled,
		static:  len(f.Rules) == 0 && len(f.Schedule) == 0 && f.Prerequisite == nil,
		off:     vars[f.OffVariant],
		def:     vars[f.DefaultVariant],
		prefix:  bucketPrefix(f.Key, f.Salt),
	}
	for _, r := range f.Rules {
		cr := compiledRule{v: vars[r.Variant], split: compileSplit(r.Split, vars)}
		if r.Segment != "" {
			cr.seg = segs[r.Segment]
		}
		c.rules = append(c.rules, cr)
	}
	for _, st := range f.Schedule {
		c.steps = append(c.steps, compiledStep{at: st.At, split: compileSplit(st.Split, vars)})
	}
	return c
}

// normalizeFlag returns a deep copy of f with defaults filled in, numbers as
// float64, and splits in their canonical order (by variant name; see the ADR).
func normalizeFlag(f *Flag) *Flag {
	if f == nil {
		return nil
	}
	n := *f
	if n.Type == "" {
		n.Type = TypeRelease
	}
	if len(n.Variants) == 0 {
		n.Variants = Boolean()
	} else {
		n.Variants = make(map[string]any, len(f.Variants))
		for k, v := range f.Variants {
			n.Variants[k] = normalizeValue(v)
		}
	}
	if _, ok := n.Variants["off"]; n.OffVariant == "" && ok {
		n.OffVariant = "off"
	}
	if n.DefaultVariant == "" {
		n.DefaultVariant = n.OffVariant
	}
	n.Rules = nil
	for _, r := range f.Rules {
		r.Split = normalizeSplit(r.Split)
		n.Rules = append(n.Rules, r)
	}
	if f.Prerequisite != nil {
		p := *f.Prerequisite
		n.Prerequisite = &p
	}
	n.Schedule = nil
	for _, st := range f.Schedule {
		n.Schedule = append(n.Schedule, Step{At: st.At, Split: normalizeSplit(st.Split)})
	}
	slices.SortStableFunc(n.Schedule, func(a, b Step) int { return a.At.Compare(b.At) })
	return &n
}

// normalizeSplit copies a split sorted by variant name, so that the order in
// which someone writes a split can never move users between variants.
func normalizeSplit(split []Weighted) []Weighted {
	if len(split) == 0 {
		return nil
	}
	out := slices.Clone(split)
	slices.SortStableFunc(out, func(a, b Weighted) int { return strings.Compare(a.Variant, b.Variant) })
	return out
}

func normalizeSegment(s *Segment) *Segment {
	if s == nil {
		return nil
	}
	n := *s
	if n.Match == "" {
		n.Match = MatchAll
	}
	n.Keys = slices.Clone(s.Keys)
	n.Conditions = nil
	for _, c := range s.Conditions {
		c.Values = slices.Clone(c.Values)
		n.Conditions = append(n.Conditions, c)
	}
	return &n
}
