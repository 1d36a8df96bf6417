package feature

import (
	"testing"
)

func TestConditionOperators(t *testing.T) {
	tests := []struct {
		name string
		cond Condition
		attr any // value of attribute "a"; nil means absent
		want bool
	}{
		{"equals string", Condition{"a", OpEquals, []string{"FR"}}, "FR", true},
		{"equals is case-sensitive", Condition{"a", OpEquals, []string{"FR"}}, "fr", false},
		{"equals number", Condition{"a", OpEquals, []string{"3"}}, 3.0, true},
		{"equals int", Condition{"a", OpEquals, []string{"3"}}, 3, true},
		{"equals other number", Condition{"a", OpEquals, []string{"3"}}, 4.0, false},
		{"equals bool", Condition{"a", OpEquals, []string{"true"}}, true, true},
		{"equals false bool", Condition{"a", OpEquals, []string{"true"}}, false, false},
		{"equals missing attribute", Condition{"a", OpEquals, []string{"x"}}, nil, false},
		{"equals object never", Condition{"a", OpEquals, []string{"x"}}, map[string]any{}, false},
		{"in", Condition{"a", OpIn, []string{"FR", "DE"}}, "DE", true},
		{"in none", Condition{"a", OpIn, []string{"FR", "DE"}}, "IT", false},
		{"in numbers", Condition{"a", OpIn, []string{"1", "2"}}, int64(2), true},
		{"ends_with", Condition{"a", OpEndsWith, []string{"@example.com"}}, "ada@example.com", true},
		{"ends_with ignores case", Condition{"a", OpEndsWith, []string{"@example.com"}}, "ADA@EXAMPLE.COM", true},
		{"ends_with any", Condition{"a", OpEndsWith, []string{"@a.com", "@b.com"}}, "x@b.com", true},
		{"ends_with no", Condition{"a", OpEndsWith, []string{"@example.com"}}, "ada@example.com.evil", false},
		{"ends_with shorter", Condition{"a", OpEndsWith, []string{"@example.com"}}, "com", false},
		{"ends_with non-string", Condition{"a", OpEndsWith, []string{"1"}}, 1.0, false},
		{"starts_with", Condition{"a", OpStartsWith, []string{"beta-"}}, "Beta-42", true},
		{"starts_with no", Condition{"a", OpStartsWith, []string{"beta-"}}, "alpha-42", false},
		{"semver equal", Condition{"a", OpSemverGTE, []string{"2.1.0"}}, "2.1.0", true},
		{"semver greater patch", Condition{"a", OpSemverGTE, []string{"2.1.0"}}, "2.1.1", true},
		{"semver numeric not lexical", Condition{"a", OpSemverGTE, []string{"2.9.0"}}, "2.10.0", true},
		{"semver lower", Condition{"a", OpSemverGTE, []string{"2.1.0"}}, "2.0.9", false},
		{"semver v prefix on attribute", Condition{"a", OpSemverGTE, []string{"2.1.0"}}, "v2.1.0", true},
		{"semver v prefix on value", Condition{"a", OpSemverGTE, []string{"v2.1.0"}}, "2.2.0", true},
		{"semver prerelease below release", Condition{"a", OpSemverGTE, []string{"2.1.0"}}, "2.1.0-rc.1", false},
		{"semver release above prerelease", Condition{"a", OpSemverGTE, []string{"2.1.0-rc.1"}}, "2.1.0", true},
		{"semver rc.2 above rc.1", Condition{"a", OpSemverGTE, []string{"2.1.0-rc.1"}}, "2.1.0-rc.2", true},
		{"semver rc.10 above rc.9", Condition{"a", OpSemverGTE, []string{"2.1.0-rc.10"}}, "2.1.0-rc.9", false},
		{"semver alpha below beta", Condition{"a", OpSemverGTE, []string{"1.0.0-beta"}}, "1.0.0-alpha", false},
		{"semver numeric below alphanumeric", Condition{"a", OpSemverGTE, []string{"1.0.0-alpha"}}, "1.0.0-1", false},
		{"semver longer prerelease higher", Condition{"a", OpSemverGTE, []string{"1.0.0-alpha"}}, "1.0.0-alpha.1", true},
		{"semver build metadata ignored", Condition{"a", OpSemverGTE, []string{"1.0.0"}}, "1.0.0+build.7", true},
		{"semver short form", Condition{"a", OpSemverGTE, []string{"2.0.0"}}, "v2", true},
		{"semver garbage", Condition{"a", OpSemverGTE, []string{"1.0.0"}}, "latest", false},
		{"semver four parts", Condition{"a", OpSemverGTE, []string{"1.0.0"}}, "1.2.3.4", false},
		{"semver empty prerelease", Condition{"a", OpSemverGTE, []string{"1.0.0"}}, "1.2.3-", false},
		{"semver non-string", Condition{"a", OpSemverGTE, []string{"1.0.0"}}, 2.0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := &Segment{Key: "s", Conditions: []Condition{tt.cond}}
			ctx := user("u")
			if tt.attr != nil {
				ctx.Attributes["a"] = tt.attr
			}
			if got := compileSegment(normalizeSegment(seg)).matches(&ctx); got != tt.want {
				t.Errorf("%s %v against %#v = %v, want %v", tt.cond.Op, tt.cond.Values, tt.attr, got, tt.want)
			}
		})
	}
}

func TestSegmentMatch(t *testing.T) {
	conds := []Condition{
		{Attribute: "email", Op: OpEndsWith, Values: []string{"@example.com"}},
		{Attribute: "country", Op: OpEquals, Values: []string{"FR"}},
	}
	tests := []struct {
		name  string
		match Match
		ctx   EvalContext
		want  bool
	}{
		{"all: both", MatchAll, user("u", "email", "a@example.com", "country", "FR"), true},
		{"all: one", MatchAll, user("u", "email", "a@example.com", "country", "DE"), false},
		{"any: one", MatchAny, user("u", "email", "a@gmail.com", "country", "FR"), true},
		{"any: none", MatchAny, user("u", "email", "a@gmail.com", "country", "DE"), false},
		{"listed key beats conditions", MatchAll, user("listed"), true},
		{"targetingKey attribute", MatchAny, user("u"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := &Segment{Key: "s", Match: tt.match, Keys: []string{"listed"}, Conditions: conds}
			if got := compileSegment(normalizeSegment(seg)).matches(&tt.ctx); got != tt.want {
				t.Errorf("segment(match %s) for %+v = %v, want %v", tt.match, tt.ctx, got, tt.want)
			}
		})
	}
}

func TestConditionOnTargetingKey(t *testing.T) {
	seg := compileSegment(normalizeSegment(&Segment{Key: "s", Conditions: []Condition{{Attribute: "targetingKey", Op: OpStartsWith, Values: []string{"staff-"}}}}))
	ctx := user("staff-7")
	if !seg.matches(&ctx) {
		t.Errorf("condition on targetingKey did not match key %q", ctx.TargetingKey)
	}
}

func TestSegmentWithNothingMatchesNobody(t *testing.T) {
	seg := compileSegment(normalizeSegment(&Segment{Key: "s"}))
	ctx := user("u", "email", "a@example.com")
	if seg.matches(&ctx) {
		t.Error("an empty segment matched a user")
	}
}
