package feature

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Problem is one thing wrong with a flag or segment. Its fields locate the
// problem so that a caller (the YAML parser) can point at the right line.
type Problem struct {
	Kind string // "flag" or "segment"
	Key  string // the flag or segment key; for a nil entry, "#n" (1-based)
	// Field is the field at fault: "key", "type", "variants", "off_variant",
	// "default_variant", "rules", "prerequisite", "schedule",
	// "expected_lifetime", "match", "keys" or "conditions".
	Field string
	// Index is the 1-based rule, schedule step or condition number, or 0.
	Index   int
	Message string
}

// Error reads like `flag "checkout-v2": rule 2: weights sum to 90.000%, want 100%`.
func (p Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q: ", p.Kind, p.Key)
	switch {
	case p.Field == "rules" && p.Index > 0:
		fmt.Fprintf(&b, "rule %d: ", p.Index)
	case p.Field == "schedule" && p.Index > 0:
		fmt.Fprintf(&b, "schedule step %d: ", p.Index)
	case p.Field == "conditions" && p.Index > 0:
		fmt.Fprintf(&b, "condition %d: ", p.Index)
	case p.Field != "":
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a set of flags and segments.
// Nothing is applied when there is one.
type ValidationError struct {
	Problems []Problem
}

// Error joins every problem with "; ".
func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// validator accumulates problems while checking one set of flags and segments.
type validator struct {
	flags    map[string]*Flag
	segments map[string]*Segment
	problems []Problem
}

func (v *validator) add(kind, key, field string, index int, format string, args ...any) {
	v.problems = append(v.problems, Problem{Kind: kind, Key: key, Field: field, Index: index, Message: fmt.Sprintf(format, args...)})
}

// validate checks normalized flags and segments; it returns nil or a
// *ValidationError.
func validate(flags []*Flag, segments []*Segment) error {
	v := &validator{flags: map[string]*Flag{}, segments: map[string]*Segment{}}
	for i, s := range segments {
		v.segment(i, s)
	}
	for i, f := range flags {
		if f == nil {
			v.add("flag", fmt.Sprintf("#%d", i+1), "", 0, "is nil")
			continue
		}
		if _, dup := v.flags[f.Key]; dup {
			v.add("flag", f.Key, "key", 0, "defined twice")
		}
		v.flags[f.Key] = f
	}
	for _, f := range flags {
		if f != nil {
			v.flag(f)
		}
	}
	v.cycles()
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

// validKey reports whether a flag, segment or variant name uses only
// [a-z0-9_.-], so keys are safe in URLs, YAML and log lines alike.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func (v *validator) checkKey(kind, key string) {
	switch {
	case key == "":
		v.add(kind, key, "key", 0, "is empty")
	case !validKey(key):
		v.add(kind, key, "key", 0, "may only contain a-z, 0-9, '_', '.' and '-'")
	}
}

// reservedFlagKeys are the API's own paths under /api/v1/flags/: a flag so
// named could not be read or changed through the API.
var reservedFlagKeys = map[string]bool{"snapshot": true, "stream": true, "export": true, "stale": true, "apply": true}

func (v *validator) flag(f *Flag) {
	v.checkKey("flag", f.Key)
	if reservedFlagKeys[f.Key] {
		v.add("flag", f.Key, "key", 0, "is reserved by the API (snapshot, stream, export, stale, apply): choose another")
	}
	switch f.Type {
	case TypeRelease, TypeOps, TypeExperiment, TypePermission:
	default:
		v.add("flag", f.Key, "type", 0, "unknown type %q, want release, ops, experiment or permission", f.Type)
	}
	v.variants(f)
	if f.OffVariant == "" {
		v.add("flag", f.Key, "off_variant", 0, "is required when there is no variant named \"off\"")
	} else if _, ok := f.Variants[f.OffVariant]; !ok {
		v.add("flag", f.Key, "off_variant", 0, "unknown variant %q", f.OffVariant)
	}
	if _, ok := f.Variants[f.DefaultVariant]; !ok && f.DefaultVariant != "" {
		v.add("flag", f.Key, "default_variant", 0, "unknown variant %q", f.DefaultVariant)
	}
	for i, r := range f.Rules {
		v.rule(f, i+1, r)
	}
	for i, st := range f.Schedule {
		if st.At.IsZero() {
			v.add("flag", f.Key, "schedule", i+1, "has no time")
		}
		v.split(f, "schedule", i+1, st.Split)
	}
	v.prerequisite(f)
	if f.ExpectedLifetime < 0 {
		v.add("flag", f.Key, "expected_lifetime", 0, "is negative")
	}
}

// variants checks names and that every value has the same supported kind.
func (v *validator) variants(f *Flag) {
	kinds := map[Kind][]string{}
	for _, name := range slices.Sorted(maps.Keys(f.Variants)) {
		if !validKey(name) {
			v.add("flag", f.Key, "variants", 0, "variant name %q may only contain a-z, 0-9, '_', '.' and '-'", name)
		}
		k := kindOf(f.Variants[name])
		if k == "" {
			v.add("flag", f.Key, "variants", 0, "variant %q has unsupported type %T, want boolean, string, number or object", name, f.Variants[name])
			continue
		}
		kinds[k] = append(kinds[k], name)
	}
	if len(kinds) > 1 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(kinds)) {
			parts = append(parts, fmt.Sprintf("%s (%s)", k, strings.Join(kinds[k], ", ")))
		}
		v.add("flag", f.Key, "variants", 0, "mixed types: %s; all variants must have one type", strings.Join(parts, " and "))
	}
}

func (v *validator) rule(f *Flag, n int, r Rule) {
	if r.Segment != "" {
		if _, ok := v.segments[r.Segment]; !ok {
			v.add("flag", f.Key, "rules", n, "unknown segment %q", r.Segment)
		}
	}
	switch {
	case r.Variant != "" && len(r.Split) > 0:
		v.add("flag", f.Key, "rules", n, "has both a variant and a split; choose one")
	case r.Variant == "" && len(r.Split) == 0:
		v.add("flag", f.Key, "rules", n, "serves nothing: set a variant or a split")
	case r.Variant != "":
		if _, ok := f.Variants[r.Variant]; !ok {
			v.add("flag", f.Key, "rules", n, "unknown variant %q", r.Variant)
		}
		if r.Segment == "" {
			v.add("flag", f.Key, "rules", n, "serves %q to everyone: set default_variant instead", r.Variant)
		}
	default:
		v.split(f, "rules", n, r.Split)
	}
}

// split checks one weighted split: known variants, each once, weights that
// are not negative and sum to 100 %.
func (v *validator) split(f *Flag, field string, n int, split []Weighted) {
	if len(split) == 0 {
		v.add("flag", f.Key, field, n, "split is empty")
		return
	}
	seen := map[string]bool{}
	sum := 0
	for _, w := range split {
		if _, ok := f.Variants[w.Variant]; !ok {
			v.add("flag", f.Key, field, n, "unknown variant %q", w.Variant)
		}
		if seen[w.Variant] {
			v.add("flag", f.Key, field, n, "variant %q appears twice", w.Variant)
		}
		seen[w.Variant] = true
		if w.Weight < 0 {
			v.add("flag", f.Key, field, n, "variant %q has negative weight %s", w.Variant, FormatPercent(w.Weight))
		}
		sum += w.Weight
	}
	if sum != TotalWeight {
		v.add("flag", f.Key, field, n, "weights sum to %s, want 100%%", FormatPercent(sum))
	}
}

func (v *validator) prerequisite(f *Flag) {
	p := f.Prerequisite
	if p == nil {
		return
	}
	pf, ok := v.flags[p.Flag]
	switch {
	case p.Flag == "":
		v.add("flag", f.Key, "prerequisite", 0, "names no flag")
	case p.Flag == f.Key:
		v.add("flag", f.Key, "prerequisite", 0, "is the flag itself")
	case !ok:
		v.add("flag", f.Key, "prerequisite", 0, "unknown flag %q", p.Flag)
	default:
		if _, ok := pf.Variants[p.Variant]; !ok {
			v.add("flag", f.Key, "prerequisite", 0, "flag %q has no variant %q", p.Flag, p.Variant)
		}
	}
}

// cycles reports each prerequisite cycle once, from its smallest key. Each
// flag has at most one prerequisite, so following the chain suffices.
func (v *validator) cycles() {
	reported := map[string]bool{}
	for _, start := range slices.Sorted(maps.Keys(v.flags)) {
		path := []string{start}
		seen := map[string]bool{start: true}
		for cur := v.flags[start]; cur.Prerequisite != nil; {
			next, ok := v.flags[cur.Prerequisite.Flag]
			if !ok || next.Key == cur.Key {
				break // reported as unknown or self
			}
			path = append(path, next.Key)
			if seen[next.Key] {
				if next.Key == start && !reported[start] {
					for _, k := range path {
						reported[k] = true
					}
					v.add("flag", start, "prerequisite", 0, "cycle %s", strings.Join(path, " → "))
				}
				break
			}
			seen[next.Key] = true
			cur = next
		}
	}
}

// FormatPercent writes a weight in units of 0.001 % as a percentage with three
// decimals: 90000 is "90.000%".
func FormatPercent(w int) string {
	sign := ""
	if w < 0 {
		sign, w = "-", -w
	}
	return fmt.Sprintf("%s%d.%03d%%", sign, w/1000, w%1000)
}

func (v *validator) segment(i int, s *Segment) {
	if s == nil {
		v.add("segment", fmt.Sprintf("#%d", i+1), "", 0, "is nil")
		return
	}
	v.checkKey("segment", s.Key)
	if _, dup := v.segments[s.Key]; dup {
		v.add("segment", s.Key, "key", 0, "defined twice")
	}
	v.segments[s.Key] = s
	if s.Match != MatchAll && s.Match != MatchAny {
		v.add("segment", s.Key, "match", 0, "unknown match %q, want all or any", s.Match)
	}
	for _, k := range s.Keys {
		if k == "" {
			v.add("segment", s.Key, "keys", 0, "has an empty targeting key")
		}
	}
	for n, c := range s.Conditions {
		v.condition(s, n+1, c)
	}
}

func (v *validator) condition(s *Segment, n int, c Condition) {
	if c.Attribute == "" {
		v.add("segment", s.Key, "conditions", n, "names no attribute")
	}
	switch c.Op {
	case OpEquals, OpSemverGTE:
		if len(c.Values) != 1 {
			v.add("segment", s.Key, "conditions", n, "%s takes exactly one value, got %d", c.Op, len(c.Values))
		}
	case OpIn, OpEndsWith, OpStartsWith:
		if len(c.Values) == 0 {
			v.add("segment", s.Key, "conditions", n, "%s needs at least one value", c.Op)
		}
	default:
		v.add("segment", s.Key, "conditions", n, "unknown operator %q, want equals, in, ends_with, starts_with or semver_gte", c.Op)
		return
	}
	for _, val := range c.Values {
		if val == "" && (c.Op == OpEndsWith || c.Op == OpStartsWith) {
			v.add("segment", s.Key, "conditions", n, "%s an empty string matches everyone", c.Op)
		}
		if _, ok := parseSemver(val); c.Op == OpSemverGTE && !ok {
			v.add("segment", s.Key, "conditions", n, "%q is not a semantic version", val)
		}
	}
}
