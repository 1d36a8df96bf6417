package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/google/go-cmp/cmp"
)

// testRouters: a heartbeat replaces what the router reported before, the
// list is ordered by id, and a forgotten router is gone.
func testRouters(t *testing.T, s store.Store) {
	ctx := context.Background()
	if list, err := s.ListRouters(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListRouters on an empty store = %v, %v; want none", list, err)
	}
	b := store.Router{ID: "r-b", Host: "h2", Listen: ":8080", Installed: 3, Drained: 2, Colors: []byte(`{"blue":{}}`), LastSeen: t0}
	a := store.Router{ID: "r-a", Host: "h1", Listen: ":8080", Installed: 3, Drained: 3, Colors: []byte(`{}`), LastSeen: t0}
	for _, r := range []store.Router{b, a} {
		if err := s.PutRouter(ctx, r); err != nil {
			t.Fatalf("PutRouter(%s) = %v", r.ID, err)
		}
	}
	b.Installed, b.Drained, b.LastSeen = 4, 4, t0.Add(1500*time.Millisecond)
	if err := s.PutRouter(ctx, b); err != nil {
		t.Fatalf("PutRouter(%s again) = %v", b.ID, err)
	}
	got, err := s.ListRouters(ctx)
	if err != nil {
		t.Fatalf("ListRouters = %v", err)
	}
	if diff := cmp.Diff([]store.Router{a, b}, got); diff != "" {
		t.Errorf("ListRouters after a second heartbeat of r-b (-want +got):\n%s", diff)
	}
	if err := s.DeleteRouter(ctx, "r-a"); err != nil {
		t.Fatalf("DeleteRouter(r-a) = %v", err)
	}
	if err := s.DeleteRouter(ctx, "r-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteRouter(r-a) twice = %v, want ErrNotFound", err)
	}
	if got, _ := s.ListRouters(ctx); len(got) != 1 || got[0].ID != "r-b" {
		t.Errorf("ListRouters after forgetting r-a = %+v, want r-b only", got)
	}
}
