package feature

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEvaluate(t *testing.T) {
	monday := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	colors := map[string]any{"red": "#f00", "blue": "#00f"}
	flags := []*Flag{
		{Key: "static-on", Enabled: true, DefaultVariant: "on"},
		{Key: "killed", Enabled: false, DefaultVariant: "on", Rules: []Rule{{Segment: "internal-users", Variant: "on"}}},
		{Key: "dark-launch", Enabled: true, Rules: []Rule{{Segment: "internal-users", Variant: "on"}}},
		{Key: "rollout-all", Enabled: true, Rules: []Rule{{Split: Percent(100000)}}},
		{Key: "rollout-none", Enabled: true, Rules: []Rule{{Split: Percent(0)}}},
		{Key: "internal-then-public", Enabled: true, Rules: []Rule{
			{Segment: "internal-users", Variant: "on"},
			{Split: Percent(0)},
		}},
		{Key: "split-in-segment", Enabled: true, Rules: []Rule{{Segment: "internal-users", Split: Percent(100000)}}},
		{Key: "color", Enabled: true, Variants: colors, OffVariant: "red", DefaultVariant: "blue"},
		{Key: "contribute", Enabled: true, Rules: []Rule{{Segment: "internal-users", Variant: "on"}}},
		{Key: "collect", Enabled: true, DefaultVariant: "on", Prerequisite: &Prerequisite{Flag: "contribute", Variant: "on"}},
		{Key: "needs-rollout", Enabled: true, DefaultVariant: "on", Prerequisite: &Prerequisite{Flag: "rollout-all", Variant: "on"}},
		{Key: "scheduled", Enabled: true, Schedule: []Step{
			{At: monday, Split: Percent(0)},
			{At: monday.Add(48 * time.Hour), Split: Percent(100000)},
		}},
	}
	s := mustSnapshot(t, flags, internalUsers())
	staff := user("user-1", "email", "ada@Example.COM")
	public := user("user-2", "email", "bob@gmail.com")

	tests := []struct {
		name string
		key  string
		ctx  EvalContext
		now  time.Time
		want Result
	}{
		{"no rules is static", "static-on", public, monday,
			Result{Key: "static-on", Value: true, Variant: "on", Reason: ReasonStatic}},
		{"disabled serves off to everyone", "killed", staff, monday,
			Result{Key: "killed", Value: false, Variant: "off", Reason: ReasonDisabled}},
		{"segment by attribute", "dark-launch", staff, monday,
			Result{Key: "dark-launch", Value: true, Variant: "on", Reason: ReasonTargetingMatch}},
		{"segment by explicit key", "dark-launch", user("user-vip"), monday,
			Result{Key: "dark-launch", Value: true, Variant: "on", Reason: ReasonTargetingMatch}},
		{"outside the segment gets the default", "dark-launch", public, monday,
			Result{Key: "dark-launch", Value: false, Variant: "off", Reason: ReasonDefault}},
		{"no attributes at all", "dark-launch", EvalContext{}, monday,
			Result{Key: "dark-launch", Value: false, Variant: "off", Reason: ReasonDefault}},
		{"100% rollout", "rollout-all", public, monday,
			Result{Key: "rollout-all", Value: true, Variant: "on", Reason: ReasonSplit}},
		{"0% rollout", "rollout-none", public, monday,
			Result{Key: "rollout-none", Value: false, Variant: "off", Reason: ReasonSplit}},
		{"first matching rule wins", "internal-then-public", staff, monday,
			Result{Key: "internal-then-public", Value: true, Variant: "on", Reason: ReasonTargetingMatch}},
		{"later rule when the first does not match", "internal-then-public", public, monday,
			Result{Key: "internal-then-public", Value: false, Variant: "off", Reason: ReasonSplit}},
		{"split inside a segment", "split-in-segment", staff, monday,
			Result{Key: "split-in-segment", Value: true, Variant: "on", Reason: ReasonSplit}},
		{"split inside a segment, outside it", "split-in-segment", public, monday,
			Result{Key: "split-in-segment", Value: false, Variant: "off", Reason: ReasonDefault}},
		{"segment rule needs no targeting key", "internal-then-public", EvalContext{Attributes: map[string]any{"email": "a@example.com"}}, monday,
			Result{Key: "internal-then-public", Value: true, Variant: "on", Reason: ReasonTargetingMatch}},
		{"split without targeting key is an error", "rollout-all", EvalContext{}, monday,
			Result{Key: "rollout-all", Reason: ReasonError, ErrorCode: ErrTargetingKeyMissing, ErrorMessage: "a percentage rollout needs a targeting key"}},
		{"string variants", "color", public, monday,
			Result{Key: "color", Value: "#00f", Variant: "blue", Reason: ReasonStatic}},
		{"unknown flag", "nope", public, monday,
			Result{Key: "nope", Reason: ReasonError, ErrorCode: ErrFlagNotFound, ErrorMessage: "flag not found"}},
		{"prerequisite met", "collect", staff, monday,
			Result{Key: "collect", Value: true, Variant: "on", Reason: ReasonDefault}},
		{"prerequisite not met serves off", "collect", public, monday,
			Result{Key: "collect", Value: false, Variant: "off", Reason: ReasonDefault, ErrorMessage: `prerequisite "contribute" is not "on"`}},
		{"prerequisite error propagates", "needs-rollout", EvalContext{}, monday,
			Result{Key: "needs-rollout", Reason: ReasonError, ErrorCode: ErrTargetingKeyMissing, ErrorMessage: "a percentage rollout needs a targeting key"}},
		{"before the first step: default", "scheduled", public, monday.Add(-time.Second),
			Result{Key: "scheduled", Value: false, Variant: "off", Reason: ReasonDefault}},
		{"first step at its exact time", "scheduled", public, monday,
			Result{Key: "scheduled", Value: false, Variant: "off", Reason: ReasonSplit}},
		{"second step", "scheduled", public, monday.Add(72 * time.Hour),
			Result{Key: "scheduled", Value: true, Variant: "on", Reason: ReasonSplit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EvaluateAt(s, tt.key, tt.ctx, tt.now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("EvaluateAt(%s, %+v) mismatch (-want +got):\n%s", tt.key, tt.ctx, diff)
			}
		})
	}
}

func TestEvaluateReadsTheClockForSchedules(t *testing.T) {
	past := time.Now().Add(-time.Hour)
	s := mustSnapshot(t, []*Flag{{Key: "f", Enabled: true, Schedule: []Step{{At: past, Split: Percent(100000)}}}})
	if got := Evaluate(s, "f", user("u")); got.Variant != "on" {
		t.Errorf("Evaluate(f) after its 100%% step = %s (%s), want on", got.Variant, got.Reason)
	}
}

func TestEvaluateWithoutSnapshot(t *testing.T) {
	for _, s := range []*Snapshot{nil, {}} {
		if got := Evaluate(s, "f", EvalContext{}); got.ErrorCode != ErrGeneral {
			t.Errorf("Evaluate(%v) error code = %q, want %q", s, got.ErrorCode, ErrGeneral)
		}
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	f := &Flag{Key: "f", Enabled: true, Rules: []Rule{{Split: Percent(100000)}}}
	s := mustSnapshot(t, []*Flag{f})
	f.Enabled = false
	f.Rules[0].Split[0].Weight = 100000
	if got := Evaluate(s, "f", user("u")); got.Variant != "on" {
		t.Errorf("after editing the input, Evaluate(f) = %s, want on: the snapshot must not share memory with its input", got.Variant)
	}
}
