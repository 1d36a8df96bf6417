package flag

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bascule/bascule/feature"
)

func staleKeys(list []StaleFlag) []string {
	out := []string{}
	for _, f := range list {
		out = append(out, f.Key+"="+f.Variant)
	}
	return out
}

// TestStaleAfterLifetime walks a release flag from dark launch to fully on
// with an injected clock: it is reported only once it has served "on" to
// everyone for longer than its expected lifetime.
func TestStaleAfterLifetime(t *testing.T) {
	db, _ := openStore(t)
	clk := &testClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	s := newService(t, db, clk)
	apply(t, s, storyFlags+`
  - key: kill-switch
    type: ops
    enabled: true
    default_variant: "on"
  - key: short-lived
    enabled: true
    default_variant: "on"
    expected_lifetime: 7d
  - key: never-on
  - key: scheduled
    enabled: true
    schedule:
      - {at: 2026-03-03T09:00:00Z, percentage: 50}
      - {at: 2026-03-10T09:00:00Z, percentage: 100}
`)
	ctx := context.Background()
	clk.Advance(8 * 24 * time.Hour) // 2026-03-10 09:00
	if diff := cmp.Diff([]string{"short-lived=on"}, staleKeys(s.Stale())); diff != "" {
		t.Errorf("after 8 days (-want +got):\n%s", diff)
	}
	if _, err := s.Update(ctx, Edit{Actor: "a"}, func(d *Draft) error { return d.SetRollout("checkout-v2", 100000) }); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * 24 * time.Hour) // 2026-04-09 09:00: 30 days exactly is not longer than 30 days
	if diff := cmp.Diff([]string{"never-on=off", "short-lived=on"}, staleKeys(s.Stale())); diff != "" {
		t.Errorf("30 days after going to 100%% (-want +got):\n%s", diff)
	}
	clk.Advance(time.Hour)
	want := []string{"checkout-v2=on", "never-on=off", "scheduled=on", "short-lived=on"}
	if diff := cmp.Diff(want, staleKeys(s.Stale())); diff != "" {
		t.Errorf("30 days and an hour later (-want +got):\n%s", diff)
	}
	if got := s.Stale()[2].Since; !got.Equal(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled flag stale since %v, want its last step 2026-03-10T09:00Z", got)
	}
}

func TestStaleNeedsOneVariantForEveryone(t *testing.T) {
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	now := old.Add(365 * 24 * time.Hour)
	flags := []*Flag{
		{Key: "segment-only", Enabled: true, Rules: []Rule{{Segment: "internal-users", Variant: "on"}}},
		{Key: "segment-and-all-on", Enabled: true, Rules: []Rule{{Segment: "internal-users", Variant: "on"}, {Split: feature.Percent(100000)}}},
		{Key: "half", Enabled: true, Rules: []Rule{{Split: feature.Percent(50000)}}},
		{Key: "prereq", Enabled: true, DefaultVariant: "on", Prerequisite: &Prerequisite{Flag: "half", Variant: "on"}},
		{Key: "pending", Enabled: true, Schedule: []Step{{At: now.Add(time.Hour), Split: feature.Percent(100000)}}},
	}
	s := mustSnapshot(t, flags, internalUsers())
	for _, f := range s.Flags {
		f.UpdatedAt = old
	}
	if diff := cmp.Diff([]string{"segment-and-all-on=on"}, staleKeys(Stale(s, now))); diff != "" {
		t.Errorf("Stale (-want +got):\n%s", diff)
	}
}

func TestEvalCounts(t *testing.T) {
	db, _ := openStore(t)
	s := newService(t, db, nil)
	apply(t, s, storyFlags)
	snap := s.Snapshot()
	for _, ctx := range []EvalContext{user("u1", "email", "ada@example.com"), user("u2", "email", "ada@example.com"), {}} {
		s.Observe(feature.Evaluate(snap, "checkout-v2", ctx))
	}
	s.Observe(feature.Evaluate(snap, "typo", EvalContext{}))
	var got []EvalCount
	s.EvalCounts(func(c EvalCount) { got = append(got, c) })
	want := []EvalCount{
		{Flag: "checkout-v2", Variant: "", N: 1}, // no targeting key for the split
		{Flag: "checkout-v2", Variant: "off", N: 0},
		{Flag: "checkout-v2", Variant: "on", N: 2},
		{Flag: "", Variant: "", N: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EvalCounts (-want +got):\n%s", diff)
	}
}

func BenchmarkObserve(b *testing.B) {
	s := mustSnapshot(b, []*Flag{{Key: "f", Enabled: true, DefaultVariant: "on"}})
	var c evalCounts
	c.track(s)
	r := feature.Evaluate(s, "f", EvalContext{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.observe(r)
		}
	})
}
