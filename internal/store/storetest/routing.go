package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// testRoutingTable: the fleet's table is read back as written, and its
// generation only grows: a write asking for a lower generation, or the
// same, gets the stored one + 1. Each app has its own.
func testRoutingTable(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.RoutingTable(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RoutingTable on an empty store = %v, want ErrNotFound", err)
	}
	for _, c := range []struct {
		ask, want int64
		body      string
	}{
		{0, 1, `{"live":"blue"}`},   // the first: 1 at least
		{5, 5, `{"live":"green"}`},  // above: taken as asked
		{3, 6, `{"live":"blue"}`},   // below: never lowered
		{6, 7, `{"live":"green"}`},  // the same: never reused
		{20, 20, `{"live":"blue"}`}, // an operator's floor above the routers'
	} {
		at := t0.Add(time.Duration(c.want) * time.Second)
		got, err := s.PutRoutingTable(ctx, store.RoutingTable{App: "shop", Generation: c.ask, Table: []byte(c.body), UpdatedAt: at})
		if err != nil || got.App != "shop" || got.Generation != c.want || string(got.Table) != c.body || !got.UpdatedAt.Equal(at) {
			t.Fatalf("PutRoutingTable(generation %d) = %+v (%s), %v; want generation %d", c.ask, got, got.Table, err, c.want)
		}
		read, err := s.RoutingTable(ctx, "shop")
		if err != nil || read.App != "shop" || read.Generation != c.want || string(read.Table) != c.body || !read.UpdatedAt.Equal(at) {
			t.Fatalf("RoutingTable after writing generation %d = %+v (%s), %v", c.want, read, read.Table, err)
		}
	}
	other, err := s.PutRoutingTable(ctx, store.RoutingTable{App: "blog", Table: []byte(`{}`), UpdatedAt: t0})
	if err != nil || other.Generation != 1 {
		t.Errorf("PutRoutingTable(blog) = %+v, %v; want generation 1, its own", other, err)
	}
	if got, err := s.RoutingTable(ctx, "shop"); err != nil || got.Generation != 20 {
		t.Errorf("RoutingTable(shop) after writing blog's = %+v, %v; want generation 20 still", got, err)
	}
}

// testRoutingTableFenced: in a store that shares leases, a deposed
// leader's table is refused and the stored one stays; the new leader's
// goes above it.
func testRoutingTableFenced(t *testing.T, s store.Store) {
	leases, ok := s.(store.Leases)
	if !ok {
		t.Skip("this store is for one instance only: nothing to fence")
	}
	ctx := context.Background()
	a, asA := leads(t, leases, "a", fenceTTL)
	if _, err := s.PutRoutingTable(asA, store.RoutingTable{App: "shop", Generation: 4, Table: []byte(`{"live":"blue"}`), UpdatedAt: t0}); err != nil {
		t.Fatalf("PutRoutingTable by the leader = %v", err)
	}
	b, asB := takesOver(t, leases, "b")
	_, err := s.PutRoutingTable(asA, store.RoutingTable{App: "shop", Generation: 9, Table: []byte(`{"live":"green"}`), UpdatedAt: t0})
	var fe *store.FencedError
	if !errors.As(err, &fe) || fe.Token != a.Token || fe.Current != b.Token {
		t.Fatalf("PutRoutingTable by the deposed leader = %v, want a *FencedError (token %d, lease's %d)", err, a.Token, b.Token)
	}
	if got, err := s.RoutingTable(ctx, "shop"); err != nil || got.Generation != 4 || string(got.Table) != `{"live":"blue"}` {
		t.Fatalf("RoutingTable after the refused write = %+v (%s), %v; want generation 4, blue, unchanged", got, got.Table, err)
	}
	got, err := s.PutRoutingTable(asB, store.RoutingTable{App: "shop", Generation: 1, Table: []byte(`{"live":"blue"}`), UpdatedAt: t0})
	if err != nil || got.Generation != 5 {
		t.Fatalf("PutRoutingTable by the new leader = %+v, %v; want generation 5", got, err)
	}
}

// testRoutingWatch: a store that pushes changes tells a watcher of each
// write, with its app.
func testRoutingWatch(t *testing.T, s store.Store) {
	w, ok := s.(store.RoutingWatcher)
	if !ok {
		t.Skip("this store does not push changes")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, got := make(chan struct{}), make(chan string, 10)
	done := make(chan error, 1)
	go func() { done <- w.WatchRoutingTable(ctx, func() { close(ready) }, func(app string) { got <- app }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("WatchRoutingTable = %v before it listened", err)
	case <-time.After(10 * time.Second):
		t.Fatal("WatchRoutingTable did not listen within 10s")
	}
	for _, want := range []string{"shop", "blog", "shop"} {
		if _, err := s.PutRoutingTable(context.Background(), store.RoutingTable{App: want, Table: []byte(`{}`), UpdatedAt: t0}); err != nil {
			t.Fatalf("PutRoutingTable(%s) = %v", want, err)
		}
		select {
		case app := <-got:
			if app != want {
				t.Errorf("watch told of a write of %s's table, want %s", app, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("watch not told of the write of %s's table within 10s", want)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("WatchRoutingTable after its ctx ended = %v, want context.Canceled", err)
	}
}
