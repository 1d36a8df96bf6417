package feature

import (
	"testing"
	"time"
)

// FuzzEvaluate feeds arbitrary contexts to a snapshot using every rule kind and
// operator: evaluation must never panic and must always name its reason.
func FuzzEvaluate(f *testing.F) {
	segs := []*Segment{
		internalUsers(),
		{Key: "modern", Match: MatchAny, Conditions: []Condition{
			{Attribute: "version", Op: OpSemverGTE, Values: []string{"2.1.0-rc.1"}},
			{Attribute: "country", Op: OpIn, Values: []string{"FR", "1", "true"}},
			{Attribute: "plan", Op: OpStartsWith, Values: []string{"pro"}},
			{Attribute: "n", Op: OpEquals, Values: []string{"3"}},
		}},
	}
	s := mustSnapshot(f, []*Flag{
		{Key: "pre", Enabled: true, Rules: []Rule{{Segment: "modern", Split: Percent(50000)}}},
		{Key: "f", Enabled: true, Prerequisite: &Prerequisite{Flag: "pre", Variant: "on"}, Rules: []Rule{
			{Segment: "internal-users", Variant: "on"},
			{Segment: "modern", Split: Percent(30000)},
		}, Schedule: []Step{{At: time.Unix(100, 0), Split: Percent(1)}}},
	}, segs...)
	f.Add("user-1", "a@example.com", "2.1.0", "FR", int64(3), true, int64(50))
	f.Add("", "", "v1.0.0-alpha.1+b", "", int64(0), false, int64(200))
	f.Add("x", "\xff", "1.2.3.4", "true", int64(-1), true, int64(-5))
	f.Fuzz(func(t *testing.T, key, email, version, country string, n int64, flag bool, at int64) {
		ctx := EvalContext{TargetingKey: key, Attributes: map[string]any{
			"email": email, "version": version, "country": country, "n": n, "plan": flag,
		}}
		for _, k := range []string{"f", "pre", "missing"} {
			r := EvaluateAt(s, k, ctx, time.Unix(at, 0))
			if r.Reason == "" || (r.Reason == ReasonError) != (r.ErrorCode != "") {
				t.Fatalf("EvaluateAt(%s, %+v) = %+v: reason and error code disagree", k, ctx, r)
			}
		}
	})
}
