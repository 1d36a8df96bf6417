package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/google/go-cmp/cmp"
)

func flagVersion(n int64, summary string) store.FlagVersion {
	return store.FlagVersion{Version: n, Doc: []byte(fmt.Sprintf(`{"version":%d,"flags":[],"segments":[]}`, n)),
		Actor: "alice", Summary: summary, CreatedAt: t0.Add(time.Duration(n) * time.Minute)}
}

func testFlagVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.LatestFlags(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestFlags on an empty store = %v, want ErrNotFound", err)
	}
	v1 := flagVersion(1, `+ flag "checkout-v2"`)
	if err := s.PutFlags(ctx, 0, v1); err != nil {
		t.Fatalf("PutFlags(first) = %v", err)
	}
	if err := s.PutFlags(ctx, 0, flagVersion(1, "again")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutFlags from version 0 when 1 exists = %v, want ErrConflict", err)
	}
	if err := s.PutFlags(ctx, 1, flagVersion(5, "skips")); err == nil {
		t.Errorf("PutFlags(version 5 after 1) succeeded, want an error")
	}
	got, err := s.LatestFlags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v1, got); diff != "" {
		t.Errorf("LatestFlags after one write (-want +got):\n%s", diff)
	}
	v2 := flagVersion(2, `~ flag "checkout-v2": enabled: false → true`+"\n"+`+ flag "dark_mode"`)
	v3 := flagVersion(3, `+ segment "internal-users"`)
	for _, v := range []store.FlagVersion{v2, v3} {
		if err := s.PutFlags(ctx, v.Version-1, v); err != nil {
			t.Fatalf("PutFlags(%d) = %v", v.Version, err)
		}
	}
	if got, err := s.LatestFlags(ctx); err != nil || got.Version != 3 {
		t.Errorf("LatestFlags = %d, %v; want version 3", got.Version, err)
	}
	testFlagHistory(t, s)
}

func testFlagHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	versions := func(list []store.FlagVersion) []int64 {
		out := []int64{}
		for _, v := range list {
			out = append(out, v.Version)
		}
		return out
	}
	cases := []struct {
		mention string
		limit   int
		want    []int64
	}{
		{"", 0, []int64{3, 2, 1}},
		{"", 2, []int64{3, 2}},
		{`flag "checkout-v2"`, 10, []int64{2, 1}},
		{`flag "dark_mode"`, 10, []int64{2}},
		{`flag "dark%mode"`, 10, []int64{}}, // no wildcards: keys are literal
		{`flag "nope"`, 10, []int64{}},
	}
	for _, c := range cases {
		list, err := s.FlagHistory(ctx, c.mention, c.limit)
		if err != nil {
			t.Fatalf("FlagHistory(%q) = %v", c.mention, err)
		}
		if diff := cmp.Diff(c.want, versions(list)); diff != "" {
			t.Errorf("FlagHistory(%q, %d) versions (-want +got):\n%s", c.mention, c.limit, diff)
		}
	}
}

// testFlagRace: two writers from the same version, as two bascule
// instances editing at once; exactly one wins.
func testFlagRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.PutFlags(ctx, 0, flagVersion(1, "base")); err != nil {
		t.Fatal(err)
	}
	const writers = 4
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { errs[i] = s.PutFlags(ctx, 1, flagVersion(2, fmt.Sprintf("writer %d", i))) })
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("writer %d: PutFlags = %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent writers from version 1 succeeded, want exactly 1", wins, writers)
	}
}
