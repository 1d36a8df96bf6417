package feature

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidationErrors(t *testing.T) {
	ok := func() *Flag { return &Flag{Key: "checkout-v2", Enabled: true} }
	with := func(edit func(f *Flag)) []*Flag { f := ok(); edit(f); return []*Flag{f} }
	seg := internalUsers()
	tests := []struct {
		name     string
		flags    []*Flag
		segments []*Segment
		want     string
	}{
		{"weights short of 100%", with(func(f *Flag) {
			f.Rules = []Rule{{Segment: "internal-users", Variant: "on"}, {Split: []Weighted{{"on", 10000}, {"off", 80000}}}}
		}), nil, `flag "checkout-v2": rule 2: weights sum to 90.000%, want 100%`},
		{"negative weight", with(func(f *Flag) { f.Rules = []Rule{{Split: []Weighted{{"on", -1}, {"off", 100001}}}} }),
			nil, `flag "checkout-v2": rule 1: variant "on" has negative weight -0.001%`},
		{"variant twice in a split", with(func(f *Flag) { f.Rules = []Rule{{Split: []Weighted{{"on", 50000}, {"on", 50000}}}} }),
			nil, `flag "checkout-v2": rule 1: variant "on" appears twice`},
		{"unknown variant in split", with(func(f *Flag) { f.Rules = []Rule{{Split: []Weighted{{"yes", 50000}, {"off", 50000}}}} }),
			nil, `flag "checkout-v2": rule 1: unknown variant "yes"`},
		{"unknown segment", with(func(f *Flag) { f.Rules = []Rule{{Segment: "staff", Variant: "on"}} }),
			nil, `flag "checkout-v2": rule 1: unknown segment "staff"`},
		{"unknown rule variant", with(func(f *Flag) { f.Rules = []Rule{{Segment: "internal-users", Variant: "maybe"}} }),
			nil, `flag "checkout-v2": rule 1: unknown variant "maybe"`},
		{"variant and split", with(func(f *Flag) { f.Rules = []Rule{{Variant: "on", Split: Percent(1)}} }),
			nil, `flag "checkout-v2": rule 1: has both a variant and a split; choose one`},
		{"empty rule", with(func(f *Flag) { f.Rules = []Rule{{Segment: "internal-users"}} }),
			nil, `flag "checkout-v2": rule 1: serves nothing: set a variant or a split`},
		{"rule for everyone", with(func(f *Flag) { f.Rules = []Rule{{Variant: "on"}} }),
			nil, `flag "checkout-v2": rule 1: serves "on" to everyone: set default_variant instead`},
		{"empty key", with(func(f *Flag) { f.Key = "" }), nil, `flag "": key: is empty`},
		{"bad key charset", with(func(f *Flag) { f.Key = "Checkout V2" }),
			nil, `flag "Checkout V2": key: may only contain a-z, 0-9, '_', '.' and '-'`},
		{"reserved key", with(func(f *Flag) { f.Key = "export" }),
			nil, `flag "export": key: is reserved by the API (snapshot, stream, export, stale, apply): choose another`},
		{"duplicate flag", []*Flag{ok(), ok()}, nil, `flag "checkout-v2": key: defined twice`},
		{"unknown type", with(func(f *Flag) { f.Type = "temporary" }),
			nil, `flag "checkout-v2": type: unknown type "temporary", want release, ops, experiment or permission`},
		{"mixed variant types", with(func(f *Flag) {
			f.Variants = map[string]any{"off": false, "small": 1, "big": "x"}
			f.DefaultVariant = "off"
		}),
			nil, `flag "checkout-v2": variants: mixed types: boolean (off) and number (small) and string (big); all variants must have one type`},
		{"unsupported variant type", with(func(f *Flag) { f.Variants = map[string]any{"off": time.Second} }),
			nil, `flag "checkout-v2": variants: variant "off" has unsupported type time.Duration, want boolean, string, number or object`},
		{"bad variant name", with(func(f *Flag) { f.Variants = map[string]any{"off": "a", "On": "b"} }),
			nil, `flag "checkout-v2": variants: variant name "On" may only contain a-z, 0-9, '_', '.' and '-'`},
		{"no off variant", with(func(f *Flag) { f.Variants = map[string]any{"red": "r", "blue": "b"} }),
			nil, `flag "checkout-v2": off_variant: is required when there is no variant named "off"`},
		{"unknown off variant", with(func(f *Flag) { f.OffVariant = "none" }),
			nil, `flag "checkout-v2": off_variant: unknown variant "none"`},
		{"unknown default variant", with(func(f *Flag) { f.DefaultVariant = "maybe" }),
			nil, `flag "checkout-v2": default_variant: unknown variant "maybe"`},
		{"unknown prerequisite", with(func(f *Flag) { f.Prerequisite = &Prerequisite{Flag: "contribute", Variant: "on"} }),
			nil, `flag "checkout-v2": prerequisite: unknown flag "contribute"`},
		{"self prerequisite", with(func(f *Flag) { f.Prerequisite = &Prerequisite{Flag: "checkout-v2", Variant: "on"} }),
			nil, `flag "checkout-v2": prerequisite: is the flag itself`},
		{"prerequisite variant", []*Flag{{Key: "a", Prerequisite: &Prerequisite{Flag: "b", Variant: "yes"}}, {Key: "b"}},
			nil, `flag "a": prerequisite: flag "b" has no variant "yes"`},
		{"prerequisite cycle", []*Flag{
			{Key: "a", Prerequisite: &Prerequisite{Flag: "b", Variant: "on"}},
			{Key: "b", Prerequisite: &Prerequisite{Flag: "c", Variant: "on"}},
			{Key: "c", Prerequisite: &Prerequisite{Flag: "a", Variant: "on"}},
		}, nil, `flag "a": prerequisite: cycle a → b → c → a`},
		{"schedule step without time", with(func(f *Flag) { f.Schedule = []Step{{Split: Percent(10000)}} }),
			nil, `flag "checkout-v2": schedule step 1: has no time`},
		{"schedule step weights", with(func(f *Flag) { f.Schedule = []Step{{At: time.Unix(1, 0), Split: []Weighted{{"on", 1}}}} }),
			nil, `flag "checkout-v2": schedule step 1: weights sum to 0.001%, want 100%`},
		{"duplicate segment", nil, []*Segment{seg, seg}, `segment "internal-users": key: defined twice`},
		{"bad segment key", nil, []*Segment{{Key: "Staff"}}, `segment "Staff": key: may only contain a-z, 0-9, '_', '.' and '-'`},
		{"bad match", nil, []*Segment{{Key: "s", Match: "most"}}, `segment "s": match: unknown match "most", want all or any`},
		{"unknown operator", nil, []*Segment{{Key: "s", Conditions: []Condition{{"email", "matches", []string{".*"}}}}},
			`segment "s": condition 1: unknown operator "matches", want equals, in, ends_with, starts_with or semver_gte`},
		{"equals with two values", nil, []*Segment{{Key: "s", Conditions: []Condition{{"country", OpEquals, []string{"FR", "DE"}}}}},
			`segment "s": condition 1: equals takes exactly one value, got 2`},
		{"bad semver value", nil, []*Segment{{Key: "s", Conditions: []Condition{{"version", OpSemverGTE, []string{"two"}}}}},
			`segment "s": condition 1: "two" is not a semantic version`},
		{"empty suffix", nil, []*Segment{{Key: "s", Conditions: []Condition{{"email", OpEndsWith, []string{""}}}}},
			`segment "s": condition 1: ends_with an empty string matches everyone`},
		{"no attribute", nil, []*Segment{{Key: "s", Conditions: []Condition{{"", OpIn, []string{"x"}}}}},
			`segment "s": condition 1: names no attribute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := tt.segments
			if segs == nil {
				segs = []*Segment{seg}
			}
			_, err := NewSnapshot(1, tt.flags, segs)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("NewSnapshot error = %v, want a *ValidationError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewSnapshot error =\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	_, err := NewSnapshot(1, []*Flag{
		{Key: "a", Rules: []Rule{{Segment: "nope", Variant: "on"}}},
		{Key: "b", Rules: []Rule{{Split: Percent(200000)}}},
	}, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("NewSnapshot error = %v, want 2 problems", err)
	}
}

func TestValidateHandBuiltSnapshot(t *testing.T) {
	s := &Snapshot{Flags: map[string]*Flag{"a": {Key: "b"}}}
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), `flag "a": key: stored under "a" but named "b"`) {
		t.Errorf("Validate() = %v, want the key mismatch", err)
	}
	good := mustSnapshot(t, []*Flag{{Key: "a"}}, internalUsers())
	if err := good.Validate(); err != nil {
		t.Errorf("Validate() of a NewSnapshot result = %v, want nil", err)
	}
}
