package flag

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
	"github.com/google/go-cmp/cmp"

	"github.com/bascule/bascule/feature"
)

// clock is an injected, settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// openStore opens a real SQLite store in a temporary directory.
func openStore(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bascule.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func newService(t *testing.T, st Store, clk *testClock) *Service {
	t.Helper()
	opts := ServiceOptions{Store: st}
	if clk != nil {
		opts.Now = clk.Now
	}
	s, err := NewService(context.Background(), opts)
	if err != nil {
		t.Fatalf("NewService = %v", err)
	}
	return s
}

// apply applies a flags file as actor, failing the test on error.
func apply(t *testing.T, s *Service, yaml string) Outcome {
	t.Helper()
	doc, err := ParseFile("flags.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("ParseFile = %v", err)
	}
	out, err := s.Update(context.Background(), Edit{Actor: "alice", Action: "flags.apply"},
		func(d *Draft) error { d.Replace(doc); return nil })
	if err != nil {
		t.Fatalf("apply = %v", err)
	}
	return out
}

const storyFlags = `
segments:
  - key: internal-users
    conditions:
      - {attribute: email, op: ends_with, value: "@example.com"}
flags:
  - key: checkout-v2
    owner: payments
    enabled: true
    rules:
      - segment: internal-users
        variant: "on"
      - percentage: 10
`

func TestServiceAppliesAndSurvivesRestart(t *testing.T) {
	db, _ := openStore(t)
	s := newService(t, db, nil)
	if v := s.Snapshot().Version; v != 0 {
		t.Fatalf("empty store serves version %d, want 0", v)
	}
	out := apply(t, s, storyFlags)
	want := Outcome{Version: 1, Applied: true, Changes: []string{`+ segment "internal-users"`, `+ flag "checkout-v2"`}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("first apply (-want +got):\n%s", diff)
	}
	if again := apply(t, s, storyFlags); again.Applied || again.Version != 1 || len(again.Changes) != 0 {
		t.Errorf("second apply of the same file = %+v, want nothing applied at version 1", again)
	}
	restarted := newService(t, db, nil)
	if got := feature.Evaluate(restarted.Snapshot(), "checkout-v2", user("u1", "email", "ada@example.com")); got.Value != true || got.Reason != ReasonTargetingMatch {
		t.Errorf("after restart, checkout-v2 for staff = %v (%s), want true by TARGETING_MATCH", got.Value, got.Reason)
	}
	if v := restarted.Snapshot().Version; v != 1 {
		t.Errorf("after restart version = %d, want 1", v)
	}
}

func TestServiceRefusesInvalidChangeWhole(t *testing.T) {
	db, _ := openStore(t)
	s := newService(t, db, nil)
	apply(t, s, storyFlags)
	ctx := context.Background()
	cases := []struct {
		name string
		edit func(d *Draft) error
		want string
	}{
		{"weights", func(d *Draft) error {
			d.Flags["checkout-v2"].Rules[1].Split = []Weighted{{Variant: "on", Weight: 50000}, {Variant: "off", Weight: 40000}}
			return nil
		}, "weights sum to 90.000%, want 100%"},
		{"unknown segment", func(d *Draft) error {
			d.Flags["checkout-v2"].Rules[0].Segment = "beta-testers"
			return nil
		}, `unknown segment "beta-testers"`},
		{"segment still used", func(d *Draft) error { return d.DeleteSegment("internal-users") }, `unknown segment "internal-users"`},
		{"prerequisite cycle", func(d *Draft) error {
			d.PutFlag(&Flag{Key: "a", Prerequisite: &Prerequisite{Flag: "b", Variant: "on"}})
			d.PutFlag(&Flag{Key: "b", Prerequisite: &Prerequisite{Flag: "a", Variant: "on"}})
			return nil
		}, "cycle a → b → a"},
		{"variant type", func(d *Draft) error {
			d.PutFlag(&Flag{Key: "color", Variants: map[string]any{"off": "red", "blue": 3}})
			return nil
		}, "mixed types"},
	}
	for _, c := range cases {
		_, err := s.Update(ctx, Edit{Actor: "bob", Action: "test"}, c.edit)
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Update = %v, want a validation error containing %q", c.name, err, c.want)
		}
	}
	if v := s.Snapshot().Version; v != 1 {
		t.Errorf("after refused changes version = %d, want 1", v)
	}
	if latest, err := db.LatestFlags(ctx); err != nil || latest.Version != 1 {
		t.Errorf("store latest = %d, %v; want version 1: nothing written", latest.Version, err)
	}
}

func TestServiceConcurrentEditsFromOneVersion(t *testing.T) {
	db, _ := openStore(t)
	s := newService(t, db, nil)
	apply(t, s, storyFlags)
	base := s.Snapshot().Version
	ctx := context.Background()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, on := range []bool{false, true} {
		wg.Go(func() {
			_, errs[i] = s.Update(ctx, Edit{Actor: "editor", Action: "flag.update", IfVersion: &base},
				func(d *Draft) error {
					d.Flags["checkout-v2"].Enabled = on
					d.Flags["checkout-v2"].Owner = "editor-" + string(rune('a'+i))
					return nil
				})
		})
	}
	wg.Wait()
	var conflicts int
	for _, err := range errs {
		var ce *ConflictError
		if errors.As(err, &ce) && errors.Is(err, store.ErrConflict) {
			conflicts++
		} else if err != nil {
			t.Errorf("Update = %v, want nil or a conflict", err)
		}
	}
	if conflicts != 1 {
		t.Errorf("two edits from version %d: %d conflicts (%v), want exactly 1", base, conflicts, errs)
	}
}

// TestServiceConflictAcrossInstances: two bascule instances share a store;
// the one whose view is stale gets a conflict for a based edit, and redoes
// an unbased one on the newer version.
func TestServiceConflictAcrossInstances(t *testing.T) {
	db, path := openStore(t)
	a := newService(t, db, nil)
	apply(t, a, storyFlags)
	other, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b := newService(t, other, nil)
	ctx := context.Background()
	if _, err := a.Update(ctx, Edit{Actor: "a"}, func(d *Draft) error { return d.SetRollout("checkout-v2", 20000) }); err != nil {
		t.Fatal(err)
	}
	base := b.Snapshot().Version
	_, err = b.Update(ctx, Edit{Actor: "b", IfVersion: &base}, func(d *Draft) error { return d.SetEnabled("checkout-v2", false) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("edit from stale version %d on instance b = %v, want a conflict", base, err)
	}
	out, err := b.Update(ctx, Edit{Actor: "b"}, func(d *Draft) error { return d.SetEnabled("checkout-v2", false) })
	if err != nil || out.Version != 3 {
		t.Fatalf("unbased edit on instance b = %+v, %v; want version 3", out, err)
	}
	f := b.Snapshot().Flags["checkout-v2"]
	if f.Enabled || f.Rules[1].Split[1].Weight != 20000 {
		t.Errorf("after both edits checkout-v2 enabled=%v rollout=%s, want disabled at 20%% (a's edit kept)", f.Enabled, feature.FormatPercent(f.Rules[1].Split[1].Weight))
	}
}

func TestServiceAuditsEveryChange(t *testing.T) {
	db, _ := openStore(t)
	s := newService(t, db, nil)
	apply(t, s, storyFlags)
	ctx := context.Background()
	if _, err := s.Update(ctx, Edit{Actor: "token:ci", Action: "flag.rollout", Target: "checkout-v2"},
		func(d *Draft) error { return d.SetRollout("checkout-v2", 25000) }); err != nil {
		t.Fatal(err)
	}
	_, err := s.Update(ctx, Edit{Actor: "mallory", Action: "flag.enable", Target: "nope"},
		func(d *Draft) error { return d.SetEnabled("nope", true) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("enable unknown flag = %v, want ErrNotFound", err)
	}
	list, err := db.ListAudit(ctx, 10)
	if err != nil || len(list) != 3 {
		t.Fatalf("audit = %d entries, %v; want 3", len(list), err)
	}
	got := list[1]
	if got.Actor != "token:ci" || got.Action != "flag.rollout" || got.Outcome != "ok" ||
		!strings.Contains(got.Detail, "version 1 → 2") || !strings.Contains(got.Detail, "rule 2: everyone: 10% on → everyone: 25% on") {
		t.Errorf("audit of the rollout = %+v, want who, what, before and after", got)
	}
	if list[0].Actor != "mallory" || list[0].Outcome != "refused" {
		t.Errorf("audit of the refused change = %+v, want mallory refused", list[0])
	}
	hist, err := s.History(ctx, "checkout-v2", 10)
	if err != nil || len(hist) != 2 || hist[0].Actor != "token:ci" {
		t.Errorf("History(checkout-v2) = %d versions, %v; want 2, newest by token:ci", len(hist), err)
	}
}

func TestServiceNotifiesWatchers(t *testing.T) {
	db, _ := openStore(t)
	s := newService(t, db, nil)
	cur := s.Current()
	snap, replaced := cur.Snapshot, cur.Replaced
	select {
	case <-replaced:
		t.Fatal("replaced before any change")
	default:
	}
	apply(t, s, storyFlags)
	select {
	case <-replaced:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5s of a change")
	}
	if next := s.Current().Snapshot; next.Version != snap.Version+1 {
		t.Errorf("after the change Current = version %d, want %d", next.Version, snap.Version+1)
	}
}

func TestServiceKeepsTimestampsOfUnchangedFlags(t *testing.T) {
	db, _ := openStore(t)
	clk := &testClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	s := newService(t, db, clk)
	apply(t, s, storyFlags+"  - key: other\n")
	created := clk.Now()
	clk.Advance(time.Hour)
	if _, err := s.Update(context.Background(), Edit{Actor: "a"}, func(d *Draft) error { return d.SetEnabled("other", true) }); err != nil {
		t.Fatal(err)
	}
	f, o := s.Snapshot().Flags["checkout-v2"], s.Snapshot().Flags["other"]
	if !f.UpdatedAt.Equal(created) || !o.CreatedAt.Equal(created) || !o.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("checkout-v2 updated %v (want %v); other created %v updated %v (want %v, %v)",
			f.UpdatedAt, created, o.CreatedAt, o.UpdatedAt, created, clk.Now())
	}
}
