package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// testProgressive: the go-live in progress is read back as last written,
// one per app, and gone once deleted; deleting none is no error.
func testProgressive(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Progressive(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Progressive on an empty store = %v, want ErrNotFound", err)
	}
	if err := s.DeleteProgressive(ctx, "shop"); err != nil {
		t.Fatalf("DeleteProgressive of none = %v, want no error", err)
	}
	for i, state := range []string{`{"percent":10}`, `{"percent":50,"paused":true}`} {
		at := t0.Add(time.Duration(i) * time.Second)
		if err := s.PutProgressive(ctx, store.Progressive{App: "shop", State: []byte(state), UpdatedAt: at}); err != nil {
			t.Fatalf("PutProgressive(%s) = %v", state, err)
		}
		got, err := s.Progressive(ctx, "shop")
		if err != nil || got.App != "shop" || string(got.State) != state || !got.UpdatedAt.Equal(at) {
			t.Fatalf("Progressive after writing %s = %+v (%s), %v", state, got, got.State, err)
		}
	}
	if err := s.PutProgressive(ctx, store.Progressive{App: "blog", State: []byte(`{"percent":1}`), UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteProgressive(ctx, "shop"); err != nil {
		t.Fatalf("DeleteProgressive(shop) = %v", err)
	}
	if _, err := s.Progressive(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Progressive(shop) after its deletion = %v, want ErrNotFound", err)
	}
	if got, err := s.Progressive(ctx, "blog"); err != nil || string(got.State) != `{"percent":1}` {
		t.Errorf("Progressive(blog) after shop's deletion = %+v, %v; want its own, kept", got, err)
	}
}

// testProgressiveFenced: in a store that shares leases, a deposed
// leader can neither move nor end the go-live; the new leader can.
func testProgressiveFenced(t *testing.T, s store.Store) {
	leases, ok := s.(store.Leases)
	if !ok {
		t.Skip("this store is for one instance only: nothing to fence")
	}
	ctx := context.Background()
	_, asA := leads(t, leases, "a", fenceTTL)
	if err := s.PutProgressive(asA, store.Progressive{App: "shop", State: []byte(`{"percent":10}`), UpdatedAt: t0}); err != nil {
		t.Fatalf("PutProgressive by the leader = %v", err)
	}
	_, asB := takesOver(t, leases, "b")
	var fe *store.FencedError
	if err := s.PutProgressive(asA, store.Progressive{App: "shop", State: []byte(`{"percent":50}`), UpdatedAt: t0}); !errors.As(err, &fe) {
		t.Errorf("PutProgressive by the deposed leader = %v, want a *FencedError", err)
	}
	if err := s.DeleteProgressive(asA, "shop"); !errors.As(err, &fe) {
		t.Errorf("DeleteProgressive by the deposed leader = %v, want a *FencedError", err)
	}
	if got, err := s.Progressive(ctx, "shop"); err != nil || string(got.State) != `{"percent":10}` {
		t.Fatalf("Progressive after the refused writes = %+v (%s), %v; want the leader's 10%%, unchanged", got, got.State, err)
	}
	if err := s.DeleteProgressive(asB, "shop"); err != nil {
		t.Fatalf("DeleteProgressive by the new leader = %v", err)
	}
	if _, err := s.Progressive(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Progressive after the new leader's deletion = %v, want ErrNotFound", err)
	}
}
