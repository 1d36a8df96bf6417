package flag

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bascule/bascule/feature"
)

func TestDiff(t *testing.T) {
	seg := internalUsers()
	beta := &Segment{Key: "beta", Keys: []string{"u1"}}
	current := mustSnapshot(t, []*Flag{
		{Key: "checkout-v2", Enabled: false, Rules: []Rule{{Segment: "internal-users", Variant: "on"}, {Split: feature.Percent(10000)}}},
		{Key: "old-banner", Enabled: true},
		{Key: "color", Enabled: true, Variants: map[string]any{"off": "red", "b": "blue"}, Salt: "1"},
	}, seg, beta)
	seg2 := internalUsers()
	seg2.Keys = []string{"user-vip", "user-new"}
	seg2.Conditions[0].Values = []string{"@example.org"}
	desired := mustSnapshot(t, []*Flag{
		{Key: "checkout-v2", Enabled: true, Owner: "payments", Rules: []Rule{{Segment: "internal-users", Variant: "on"}, {Split: feature.Percent(20000)}},
			Schedule: []Step{{At: time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC), Split: feature.Percent(50000)}}},
		{Key: "color", Enabled: true, Variants: map[string]any{"off": "red", "b": "navy", "c": "cyan"}, Salt: "2"},
		{Key: "new-search", Enabled: true},
	}, seg2)
	want := []string{
		`- segment "beta"`,
		`~ segment "internal-users": keys: +[user-new] -[]; condition 1: email ends_with @example.com → email ends_with @example.org`,
		`~ flag "checkout-v2": enabled: false → true; owner: (none) → payments; rule 2: everyone: 10% on → everyone: 20% on; schedule step 1 added: 2025-06-02T09:00:00Z: 50% on`,
		`~ flag "color": variant b: "blue" → "navy"; variant c: (none) → "cyan"; salt: 1 → 2 (reshuffles every percentage)`,
		`+ flag "new-search"`,
		`- flag "old-banner"`,
	}
	var got []string
	for _, c := range Diff(current, desired) {
		got = append(got, c.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff mismatch (-want +got):\n%s", diff)
	}
	if d := Diff(desired, desired); len(d) != 0 {
		t.Errorf("Diff(s, s) = %v, want no changes: applying twice must be a no-op", d)
	}
}

func TestDiffIgnoresTimestampsAndNil(t *testing.T) {
	a := mustSnapshot(t, []*Flag{{Key: "f", CreatedAt: time.Unix(1, 0)}})
	b := mustSnapshot(t, []*Flag{{Key: "f", CreatedAt: time.Unix(2, 0), UpdatedAt: time.Unix(3, 0)}})
	if d := Diff(a, b); len(d) != 0 {
		t.Errorf("Diff with only timestamps changed = %v, want none", d)
	}
	if d := Diff(nil, a); len(d) != 1 || d[0].Kind != Added {
		t.Errorf("Diff(nil, s) = %v, want one addition", d)
	}
}

func TestDiffOfExportIsEmpty(t *testing.T) {
	s := parseExample(t)
	doc, err := ParseFile("x.yaml", Export(s))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := doc.Snapshot(s.Version + 1)
	if d := Diff(s, s2); len(d) != 0 {
		t.Errorf("Diff(s, Parse(Export(s))) = %v, want none: flags apply of an export must be a no-op", d)
	}
}
