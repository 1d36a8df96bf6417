package flag

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bascule/bascule/feature"
)

// The case: a flag behind a prerequisite with default_variant on.
// Users who fail the prerequisite get off, and the description must say so.
const prerequisiteFlags = `
flags:
  - key: base-feature
    enabled: true
    rules:
      - percentage: 30
  - key: dependent
    enabled: true
    default_variant: on
    prerequisite: {flag: base-feature, variant: on}
`

func TestDescribe(t *testing.T) {
	s := snapshotOfFiles(t, filepath.Join("..", "..", "examples", "flags.yaml"))
	pre := snapshotOf(t, "prerequisite.yaml", []byte(prerequisiteFlags))
	got := map[string]string{}
	for _, snap := range []*Snapshot{s, pre} {
		for _, k := range snap.FlagKeys() {
			got[k] = Describe(snap.Flags[k])
		}
	}
	want := map[string]string{
		"checkout-v2":       "segment internal-users: on; everyone: 10% on",
		"button-color":      "segment modern-app: blue 25%, control 50%, red 25%; else control",
		"contribute-to-pot": "on",
		"collect-the-pot": "if contribute-to-pot is not on: off; " +
			"schedule 2025-06-02T09:00:00Z: 10% on, 2025-06-04T09:00:00Z: 50% on, 2025-06-09T09:00:00Z: 100% on; else off",
		"search-reindex": "off (disabled)",
		"page-size":      "large",
		"base-feature":   "everyone: 30% on",
		"dependent":      "if base-feature is not on: off; else on",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
}

// Every example flag, evaluated for many users at times before, during and
// after its schedule, serves what the clause of its description that
// applies says: the description is what evaluation does.
func TestDescribeAgreesWithEvaluation(t *testing.T) {
	snaps := []*Snapshot{
		snapshotOfFiles(t, filepath.Join("..", "..", "examples", "flags.yaml")),
		snapshotOfFiles(t, filepath.Join("testdata", "flags.yaml")),
		snapshotOf(t, "prerequisite.yaml", []byte(prerequisiteFlags)),
	}
	times := []time.Time{
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 5, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	seen := map[feature.Reason]int{}
	for _, s := range snaps {
		for _, k := range s.FlagKeys() {
			f := s.Flags[k]
			for _, ctx := range describeUsers() {
				for _, now := range times {
					r := feature.EvaluateAt(s, k, ctx, now)
					if msg := explains(f, r); msg != "" {
						t.Errorf("%s for %q at %s = %s (%s %q), but Describe says %q: %s",
							k, ctx.TargetingKey, now.Format(time.DateOnly), r.Variant, r.Reason, r.ErrorMessage, Describe(f), msg)
					}
					seen[r.Reason]++
				}
			}
		}
	}
	// The users must reach every kind of step, or the test proves little.
	for _, reason := range []feature.Reason{feature.ReasonStatic, feature.ReasonTargetingMatch, feature.ReasonSplit,
		feature.ReasonDisabled, feature.ReasonDefault} {
		if seen[reason] == 0 {
			t.Errorf("no evaluation had reason %s", reason)
		}
	}
}

// explains returns "" if the description of f accounts for r, else why not.
func explains(f *Flag, r Result) string {
	if !f.Enabled {
		if r.Reason != ReasonDisabled || r.Variant != f.OffVariant || Describe(f) != f.OffVariant+" (disabled)" {
			return "a disabled flag serves its off variant"
		}
		return ""
	}
	cs := clauses(f)
	has := func(step clauseStep, variant string) bool {
		return slices.ContainsFunc(cs, func(c clause) bool { return c.step == step && slices.Contains(c.variants, variant) })
	}
	switch {
	case r.Reason == ReasonError:
		return "" // no value served: nothing to describe
	case r.Reason == ReasonDefault && r.ErrorMessage != "":
		if !has(stepPrerequisite, r.Variant) {
			return "no prerequisite clause serves it"
		}
	case r.Reason == ReasonTargetingMatch:
		if !has(stepRule, r.Variant) {
			return "no rule serves it"
		}
	case r.Reason == ReasonSplit:
		if !has(stepRule, r.Variant) && !has(stepSchedule, r.Variant) {
			return "no split serves it"
		}
	case r.Reason == ReasonDefault || r.Reason == ReasonStatic:
		if !has(stepDefault, r.Variant) {
			return "the default it names is another"
		}
	default:
		return "unexpected reason"
	}
	return ""
}

// describeUsers are in and out of every example segment, with and without
// a targeting key.
func describeUsers() []EvalContext {
	var out []EvalContext
	emails := []string{"ann@example.com", "bob@gmail.com"}
	versions := []string{"v2.5.0", "1.0.0"}
	countries := []string{"FR", "US"}
	for i := range 200 {
		out = append(out, EvalContext{TargetingKey: fmt.Sprintf("user-%d", i), Attributes: map[string]any{
			"email": emails[i%2], "app_version": versions[i/2%2], "country": countries[i/4%2], "plan": "pro",
		}})
	}
	out = append(out, EvalContext{TargetingKey: "user-qa-1"}, EvalContext{Attributes: map[string]any{"email": "x@gmail.com"}})
	return out
}

func snapshotOfFiles(t *testing.T, name string) *Snapshot {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return snapshotOf(t, name, data)
}

func snapshotOf(t *testing.T, name string, data []byte) *Snapshot {
	t.Helper()
	doc, err := ParseFile(name, data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := doc.Snapshot(1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
