package flag

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// ChangeKind says whether a flag or segment is added, changed or removed.
type ChangeKind string

// The kinds of change.
const (
	Added   ChangeKind = "added"
	Changed ChangeKind = "changed"
	Removed ChangeKind = "removed"
)

// Change is one flag or segment that differs between two snapshots, with a
// human description of each difference.
type Change struct {
	Kind    ChangeKind
	Object  string // "segment" or "flag"
	Key     string
	Details []string // for Changed: one line per field, e.g. "rule 2: everyone 10% on → 20% on"
}

// String reads like `~ flag "checkout-v2": enabled: false → true; rule 2: …`.
func (c Change) String() string {
	sign := map[ChangeKind]string{Added: "+", Changed: "~", Removed: "-"}[c.Kind]
	s := fmt.Sprintf("%s %s %q", sign, c.Object, c.Key)
	if len(c.Details) > 0 {
		s += ": " + strings.Join(c.Details, "; ")
	}
	return s
}

// Diff lists what applying desired over current would change: segments
// first, then flags, each in key order, so the same inputs always print the
// same plan. Store-managed fields (CreatedAt, UpdatedAt) are ignored. A nil
// snapshot counts as empty. No changes means applying is a no-op.
func Diff(current, desired *Snapshot) []Change {
	if current == nil {
		current = &Snapshot{}
	}
	if desired == nil {
		desired = &Snapshot{}
	}
	changes := diffMaps("segment", current.Segments, desired.Segments, diffSegment)
	return append(changes, diffMaps("flag", current.Flags, desired.Flags, diffFlag)...)
}

func diffMaps[T any](object string, cur, want map[string]*T, fields func(a, b *T) []string) []Change {
	keys := slices.Sorted(maps.Keys(cur))
	for k := range want {
		if _, ok := cur[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Change
	for _, k := range keys {
		a, inA := cur[k]
		b, inB := want[k]
		switch {
		case !inA:
			out = append(out, Change{Kind: Added, Object: object, Key: k})
		case !inB:
			out = append(out, Change{Kind: Removed, Object: object, Key: k})
		default:
			if d := fields(a, b); len(d) > 0 {
				out = append(out, Change{Kind: Changed, Object: object, Key: k, Details: d})
			}
		}
	}
	return out
}

// field appends "name: a → b" when a and b differ.
func field(out []string, name string, a, b any) []string {
	if reflect.DeepEqual(a, b) {
		return out
	}
	return append(out, fmt.Sprintf("%s: %s → %s", name, show(a), show(b)))
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "(none)"
		}
		return x
	case []string:
		if len(x) == 0 {
			return "(none)"
		}
		return strings.Join(x, ", ")
	}
	return fmt.Sprint(v)
}

func diffFlag(a, b *Flag) []string {
	var d []string
	d = field(d, "enabled", a.Enabled, b.Enabled)
	d = field(d, "description", a.Description, b.Description)
	d = field(d, "owner", a.Owner, b.Owner)
	d = field(d, "type", string(a.Type), string(b.Type))
	for _, name := range slices.Sorted(maps.Keys(mergeKeys(a.Variants, b.Variants))) {
		d = field(d, "variant "+name, variantText(a.Variants, name), variantText(b.Variants, name))
	}
	d = field(d, "off_variant", a.OffVariant, b.OffVariant)
	d = field(d, "default_variant", a.DefaultVariant, b.DefaultVariant)
	if a.Salt != b.Salt {
		d = append(d, fmt.Sprintf("salt: %s → %s (reshuffles every percentage)", show(a.Salt), show(b.Salt)))
	}
	d = field(d, "expected_lifetime", lifetimeText(a), lifetimeText(b))
	d = field(d, "prerequisite", prerequisiteText(a.Prerequisite), prerequisiteText(b.Prerequisite))
	d = diffList(d, "rule", rulesText(a.Rules), rulesText(b.Rules))
	return diffList(d, "schedule step", stepsText(a.Schedule), stepsText(b.Schedule))
}

func diffSegment(a, b *Segment) []string {
	var d []string
	d = field(d, "description", a.Description, b.Description)
	d = field(d, "match", string(a.Match), string(b.Match))
	if !slices.Equal(a.Keys, b.Keys) {
		added, removed := setDiff(b.Keys, a.Keys), setDiff(a.Keys, b.Keys)
		d = append(d, fmt.Sprintf("keys: +[%s] -[%s]", strings.Join(added, ", "), strings.Join(removed, ", ")))
	}
	var ca, cb []string
	for _, c := range a.Conditions {
		ca = append(ca, conditionText(c))
	}
	for _, c := range b.Conditions {
		cb = append(cb, conditionText(c))
	}
	return diffList(d, "condition", ca, cb)
}

// diffList compares two ordered lists of descriptions position by position.
func diffList(d []string, name string, a, b []string) []string {
	for i := 0; i < max(len(a), len(b)); i++ {
		switch {
		case i >= len(a):
			d = append(d, fmt.Sprintf("%s %d added: %s", name, i+1, b[i]))
		case i >= len(b):
			d = append(d, fmt.Sprintf("%s %d removed: %s", name, i+1, a[i]))
		case a[i] != b[i]:
			d = append(d, fmt.Sprintf("%s %d: %s → %s", name, i+1, a[i], b[i]))
		}
	}
	return d
}

func mergeKeys(a, b map[string]any) map[string]any {
	m := maps.Clone(a)
	if m == nil {
		m = map[string]any{}
	}
	maps.Copy(m, b)
	return m
}

func variantText(v map[string]any, name string) string {
	x, ok := v[name]
	if !ok {
		return "(none)"
	}
	return fmt.Sprintf("%#v", x)
}

func lifetimeText(f *Flag) string {
	if f.ExpectedLifetime == 0 {
		return ""
	}
	return formatLifetime(f.ExpectedLifetime)
}

func prerequisiteText(p *Prerequisite) string {
	if p == nil {
		return ""
	}
	return p.Flag + " is " + p.Variant
}

// splitText describes a split; a boolean one as "10% on".
func splitText(split []Weighted) string {
	if len(split) == 2 && split[0].Variant == "off" && split[1].Variant == "on" {
		return shortPercent(split[1].Weight) + " on"
	}
	parts := make([]string, len(split))
	for i, w := range split {
		parts[i] = w.Variant + " " + shortPercent(w.Weight)
	}
	return strings.Join(parts, ", ")
}

func rulesText(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		who := "everyone"
		if r.Segment != "" {
			who = "segment " + r.Segment
		}
		what := r.Variant
		if len(r.Split) > 0 {
			what = splitText(r.Split)
		}
		out[i] = who + ": " + what
	}
	return out
}

func stepsText(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.At.UTC().Format(time.RFC3339) + ": " + splitText(s.Split)
	}
	return out
}

func conditionText(c Condition) string {
	return fmt.Sprintf("%s %s %s", c.Attribute, c.Op, strings.Join(c.Values, ", "))
}

// setDiff returns the elements of a not in b, in a's order.
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
