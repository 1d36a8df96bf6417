package flag

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/bascule/bascule/feature"
)

// The shapes Export writes; field order is the order in the file.
type (
	yamlDoc struct {
		Segments []yamlSegment `yaml:"segments,omitempty"`
		Flags    []yamlFlag    `yaml:"flags,omitempty"`
	}
	yamlSegment struct {
		Key         string          `yaml:"key"`
		Description string          `yaml:"description,omitempty"`
		Keys        []string        `yaml:"keys,omitempty,flow"`
		Match       string          `yaml:"match,omitempty"`
		Conditions  []yamlCondition `yaml:"conditions,omitempty"`
	}
	yamlCondition struct {
		Attribute string   `yaml:"attribute"`
		Op        string   `yaml:"op"`
		Value     string   `yaml:"value,omitempty"`
		Values    []string `yaml:"values,omitempty,flow"`
	}
	yamlFlag struct {
		Key              string        `yaml:"key"`
		Description      string        `yaml:"description,omitempty"`
		Owner            string        `yaml:"owner,omitempty"`
		Type             string        `yaml:"type"`
		Enabled          bool          `yaml:"enabled"`
		Variants         yaml.MapSlice `yaml:"variants,omitempty"`
		OffVariant       string        `yaml:"off_variant,omitempty"`
		DefaultVariant   string        `yaml:"default_variant,omitempty"`
		Salt             string        `yaml:"salt,omitempty"`
		ExpectedLifetime string        `yaml:"expected_lifetime,omitempty"`
		Prerequisite     *yamlPrereq   `yaml:"prerequisite,omitempty,flow"`
		Rules            []yamlRule    `yaml:"rules,omitempty"`
		Schedule         []yamlStep    `yaml:"schedule,omitempty"`
	}
	yamlPrereq struct {
		Flag    string `yaml:"flag"`
		Variant string `yaml:"variant"`
	}
	yamlRule struct {
		Segment    string        `yaml:"segment,omitempty"`
		Variant    string        `yaml:"variant,omitempty"`
		Percentage any           `yaml:"percentage,omitempty"`
		Rollout    yaml.MapSlice `yaml:"rollout,omitempty,flow"`
	}
	yamlStep struct {
		At         string        `yaml:"at"`
		Percentage any           `yaml:"percentage,omitempty"`
		Rollout    yaml.MapSlice `yaml:"rollout,omitempty,flow"`
	}
)

// Export writes the snapshot as a flags file that ParseFile reads back to
// the same flags and segments. Store-managed fields (CreatedAt, UpdatedAt) are
// left out, and so are fields equal to their defaults. Flags and segments are
// in key order, so exporting twice gives the same bytes.
func Export(s *Snapshot) []byte {
	var doc yamlDoc
	for _, k := range slices.Sorted(maps.Keys(s.Segments)) {
		doc.Segments = append(doc.Segments, exportSegment(s.Segments[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Flags)) {
		doc.Flags = append(doc.Flags, exportFlag(s.Flags[k]))
	}
	out, err := yaml.MarshalWithOptions(doc, yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		// Every field is a plain string, number, bool, list or map.
		panic("flag: export: " + err.Error())
	}
	return out
}

func exportSegment(s *Segment) yamlSegment {
	y := yamlSegment{Key: s.Key, Description: s.Description, Keys: s.Keys}
	if s.Match != MatchAll {
		y.Match = string(s.Match)
	}
	for _, c := range s.Conditions {
		yc := yamlCondition{Attribute: c.Attribute, Op: string(c.Op)}
		if len(c.Values) == 1 && c.Values[0] != "" {
			yc.Value = c.Values[0]
		} else {
			yc.Values = c.Values
		}
		y.Conditions = append(y.Conditions, yc)
	}
	return y
}

func exportFlag(f *Flag) yamlFlag {
	y := yamlFlag{
		Key: f.Key, Description: f.Description, Owner: f.Owner, Type: string(f.Type),
		Enabled: f.Enabled, Salt: f.Salt,
	}
	boolean := isBoolean(f.Variants)
	if !boolean {
		for _, name := range slices.Sorted(maps.Keys(f.Variants)) {
			y.Variants = append(y.Variants, yaml.MapItem{Key: name, Value: exportValue(f.Variants[name])})
		}
	}
	if _, hasOff := f.Variants["off"]; f.OffVariant != "off" || !hasOff {
		y.OffVariant = f.OffVariant
	}
	if f.DefaultVariant != f.OffVariant {
		y.DefaultVariant = f.DefaultVariant
	}
	if f.ExpectedLifetime != 0 {
		y.ExpectedLifetime = formatLifetime(f.ExpectedLifetime)
	}
	if f.Prerequisite != nil {
		y.Prerequisite = &yamlPrereq{Flag: f.Prerequisite.Flag, Variant: f.Prerequisite.Variant}
	}
	for _, r := range f.Rules {
		yr := yamlRule{Segment: r.Segment, Variant: r.Variant}
		yr.Percentage, yr.Rollout = exportSplit(r.Split, boolean)
		y.Rules = append(y.Rules, yr)
	}
	for _, st := range f.Schedule {
		ys := yamlStep{At: st.At.UTC().Format(time.RFC3339Nano)}
		ys.Percentage, ys.Rollout = exportSplit(st.Split, boolean)
		y.Schedule = append(y.Schedule, ys)
	}
	return y
}

// isBoolean reports whether variants are exactly the default on/off pair.
func isBoolean(v map[string]any) bool {
	on, ok1 := v["on"]
	off, ok2 := v["off"]
	return len(v) == 2 && ok1 && ok2 && on == true && off == false
}

// exportSplit writes a boolean on/off split as `percentage`, anything else
// as `rollout`.
func exportSplit(split []Weighted, boolean bool) (any, yaml.MapSlice) {
	if len(split) == 0 {
		return nil, nil
	}
	if boolean && len(split) == 2 && split[0].Variant == "off" && split[1].Variant == "on" {
		return percentNumber(split[1].Weight), nil
	}
	var m yaml.MapSlice
	for _, w := range split {
		m = append(m, yaml.MapItem{Key: w.Variant, Value: shortPercent(w.Weight)})
	}
	return nil, m
}

// percentNumber writes a weight as a percentage number: 10000 is 10, 12500
// is 12.5. A zero percentage is written as the string "0" so that omitempty
// keeps it.
func percentNumber(w int) any {
	if w == 0 {
		return "0"
	}
	if w%1000 == 0 {
		return w / 1000
	}
	return float64(w) / 1000
}

// exportValue writes whole float64 numbers as integers (3, not 3.0).
func exportValue(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = exportValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = exportValue(e)
		}
		return l
	}
	return v
}

// shortPercent writes a weight as a percentage without trailing zeros:
// 25000 is "25%", 12500 is "12.5%".
func shortPercent(w int) string {
	s := strings.TrimRight(strings.TrimSuffix(feature.FormatPercent(w), "%"), "0")
	return strings.TrimSuffix(s, ".") + "%"
}
