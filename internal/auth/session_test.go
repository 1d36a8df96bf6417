package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

func newSessions(t *testing.T, clk *clock) (*auth.Sessions, *auth.Users) {
	t.Helper()
	db := openStore(t)
	users := &auth.Users{Store: db, Params: fastParams, Now: clk.Now}
	if _, err := users.Create(context.Background(), "alice", store.RoleAdmin, "password-alice"); err != nil {
		t.Fatal(err)
	}
	return &auth.Sessions{Store: db, Now: clk.Now}, users
}

// TestSessionStoresOnlyTheHash: the ID in the cookie is not in the store.
func TestSessionStoresOnlyTheHash(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s, _ := newSessions(t, clk)
	id, sess, err := s.Create(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 43 || sess.IDHash != auth.HashSecret(id) || sess.CSRFToken == "" {
		t.Fatalf("Create = id %q (%d chars), hash %q, csrf %q; want 256 bits, its SHA-256, a CSRF token", id, len(id), sess.IDHash, sess.CSRFToken)
	}
	if _, err := s.Store.Session(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("store.Session(raw id) = %v, want ErrNotFound: the raw ID must not be stored", err)
	}
	id2, _, _ := s.Create(ctx, "alice")
	if id2 == id {
		t.Errorf("two sessions got the same ID %q", id)
	}
	for _, bad := range []string{"", "short", sess.IDHash, id[:42] + "x"} {
		if _, err := s.Lookup(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("Lookup(%q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s, _ := newSessions(t, clk)
	id, _, _ := s.Create(ctx, "alice")
	clk.Advance(11 * time.Hour)
	if _, err := s.Lookup(ctx, id); err != nil {
		t.Fatalf("Lookup after 11h idle = %v, want the session alive (idle limit 12h)", err)
	}
	clk.Advance(11 * time.Hour) // 22h after login, 11h after last use
	if _, err := s.Lookup(ctx, id); err != nil {
		t.Fatalf("Lookup 11h after the last use = %v, want alive: use extends the session", err)
	}
	clk.Advance(12 * time.Hour)
	if _, err := s.Lookup(ctx, id); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("Lookup after 12h idle = %v, want ErrUnauthenticated", err)
	}
	if _, err := s.Store.Session(ctx, auth.HashSecret(id)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session still stored (%v), want it deleted", err)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s, _ := newSessions(t, clk)
	id, _, _ := s.Create(ctx, "alice")
	for elapsed := time.Duration(0); elapsed < 7*24*time.Hour-10*time.Hour; elapsed += 10 * time.Hour {
		clk.Advance(10 * time.Hour)
		if _, err := s.Lookup(ctx, id); err != nil {
			t.Fatalf("Lookup %s after login, used every 10h = %v, want alive", elapsed+10*time.Hour, err)
		}
	}
	clk.Advance(10 * time.Hour) // past 7 days since login, 10h since last use
	if _, err := s.Lookup(ctx, id); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Lookup over 7 days after login = %v, want ErrUnauthenticated however active", err)
	}
}

// TestSessionTouchIsThrottled: a burst of requests writes the last use
// once per TouchEvery, not once per request.
func TestSessionTouchIsThrottled(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s, _ := newSessions(t, clk)
	id, created, _ := s.Create(ctx, "alice")
	clk.Advance(30 * time.Second)
	s.Lookup(ctx, id)
	if got, _ := s.Store.Session(ctx, created.IDHash); !got.LastSeen.Equal(created.LastSeen) {
		t.Errorf("LastSeen after a lookup 30s later = %v, want unchanged %v", got.LastSeen, created.LastSeen)
	}
	clk.Advance(time.Minute)
	s.Lookup(ctx, id)
	got, _ := s.Store.Session(ctx, created.IDHash)
	if !got.LastSeen.Equal(clk.Now()) || !got.ExpiresAt.Equal(clk.Now().Add(12*time.Hour)) {
		t.Errorf("after a lookup 90s later: LastSeen %v, ExpiresAt %v; want %v and 12h later", got.LastSeen, got.ExpiresAt, clk.Now())
	}
}

func TestSessionDeleteAndSweep(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s, _ := newSessions(t, clk)
	old, _, _ := s.Create(ctx, "alice")
	clk.Advance(6 * time.Hour)
	fresh, _, _ := s.Create(ctx, "alice")
	gone, _, _ := s.Create(ctx, "alice")
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, gone); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Lookup after Delete = %v, want ErrUnauthenticated", err)
	}
	clk.Advance(7 * time.Hour) // old: 13h idle; fresh: 7h
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.Session(ctx, auth.HashSecret(old)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Sweep kept the expired session (%v)", err)
	}
	if _, err := s.Lookup(ctx, fresh); err != nil {
		t.Errorf("Sweep took the live session: %v", err)
	}
}
