package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/google/go-cmp/cmp"
)

func addUser(t *testing.T, s store.Store, name, role string) *store.User {
	t.Helper()
	u := &store.User{Name: name, Role: role, PasswordHash: "$argon2id$" + name, CreatedAt: t0}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s) = %v", name, err)
	}
	return u
}

func testUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	bob := addUser(t, s, "bob", store.RoleViewer)
	alice := addUser(t, s, "alice", store.RoleAdmin)
	if bob.ID == 0 || alice.ID == bob.ID {
		t.Errorf("CreateUser IDs = %d, %d; want distinct, non-zero", bob.ID, alice.ID)
	}
	if err := s.CreateUser(ctx, &store.User{Name: "bob", Role: store.RoleAdmin, PasswordHash: "x", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser(bob again) = %v, want ErrConflict", err)
	}
	got, err := s.User(ctx, "bob")
	if err != nil {
		t.Fatalf("User(bob) = %v", err)
	}
	if diff := cmp.Diff(*bob, got); diff != "" {
		t.Errorf("User(bob) round trip (-want +got):\n%s", diff)
	}
	if _, err := s.User(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(carol) = %v, want ErrNotFound", err)
	}
	list, err := s.ListUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Errorf("ListUsers = %+v, %v; want alice then bob", list, err)
	}
}

func testUpdateUser(t *testing.T, s store.Store) {
	ctx := context.Background()
	bob := addUser(t, s, "bob", store.RoleViewer)
	off := t0.Add(time.Hour)
	bob.Role, bob.PasswordHash, bob.DisabledAt = store.RoleDeployer, "$argon2id$new", &off
	if err := s.UpdateUser(ctx, *bob); err != nil {
		t.Fatalf("UpdateUser(bob) = %v", err)
	}
	got, err := s.User(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*bob, got); diff != "" {
		t.Errorf("User(bob) after update (-want +got):\n%s", diff)
	}
	bob.DisabledAt = nil
	if err := s.UpdateUser(ctx, *bob); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, "bob"); got.DisabledAt != nil {
		t.Errorf("User(bob).DisabledAt after re-enabling = %v, want nil", got.DisabledAt)
	}
	if err := s.UpdateUser(ctx, store.User{Name: "carol", Role: store.RoleAdmin}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser(carol) = %v, want ErrNotFound", err)
	}
}

func newSession(hash, user string, expires time.Time) store.Session {
	return store.Session{IDHash: hash, User: user, CSRFToken: "csrf-" + hash, CreatedAt: t0, LastSeen: t0, ExpiresAt: expires}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	addUser(t, s, "alice", store.RoleAdmin)
	want := newSession("h1", "alice", t0.Add(12*time.Hour))
	if err := s.CreateSession(ctx, want); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	if err := s.CreateSession(ctx, want); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateSession(same hash) = %v, want ErrConflict", err)
	}
	got, err := s.Session(ctx, "h1")
	if err != nil {
		t.Fatalf("Session(h1) = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Session round trip (-want +got):\n%s", diff)
	}
	seen, exp := t0.Add(time.Hour), t0.Add(13*time.Hour)
	if err := s.TouchSession(ctx, "h1", seen, exp); err != nil {
		t.Fatalf("TouchSession = %v", err)
	}
	if got, _ := s.Session(ctx, "h1"); !got.LastSeen.Equal(seen) || !got.ExpiresAt.Equal(exp) || !got.CreatedAt.Equal(t0) {
		t.Errorf("Session after touch = seen %v, expires %v, created %v; want %v, %v, %v", got.LastSeen, got.ExpiresAt, got.CreatedAt, seen, exp, t0)
	}
	if err := s.TouchSession(ctx, "nope", seen, exp); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchSession(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session(unknown) = %v, want ErrNotFound", err)
	}
	for i := 0; i < 2; i++ {
		if err := s.DeleteSession(ctx, "h1"); err != nil {
			t.Errorf("DeleteSession #%d = %v, want nil (logging out twice is fine)", i+1, err)
		}
	}
	if _, err := s.Session(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session(h1) after delete = %v, want ErrNotFound", err)
	}
}

// testSessionSweeps checks the bulk deletes: per user, expired, and the
// cascade when a user is deleted.
func testSessionSweeps(t *testing.T, s store.Store) {
	ctx := context.Background()
	addUser(t, s, "alice", store.RoleAdmin)
	addUser(t, s, "bob", store.RoleViewer)
	addUser(t, s, "carol", store.RoleViewer)
	for _, sess := range []store.Session{
		newSession("a1", "alice", t0.Add(time.Hour)),
		newSession("a2", "alice", t0.Add(time.Hour)),
		newSession("b1", "bob", t0.Add(time.Hour)),
		// Expiry times with and without fractional seconds must compare as
		// times, not as strings.
		newSession("c1", "carol", t0.Add(2*time.Hour)),
		newSession("c2", "carol", t0.Add(2*time.Hour+500*time.Millisecond)),
		newSession("c3", "carol", t0.Add(3*time.Hour)),
	} {
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession(%s) = %v", sess.IDHash, err)
		}
	}
	if err := s.DeleteUserSessions(ctx, "alice"); err != nil {
		t.Fatalf("DeleteUserSessions(alice) = %v", err)
	}
	if err := s.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("DeleteUser(bob) = %v", err)
	}
	if err := s.DeleteExpiredSessions(ctx, t0.Add(2*time.Hour+100*time.Millisecond)); err != nil {
		t.Fatalf("DeleteExpiredSessions = %v", err)
	}
	for hash, alive := range map[string]bool{"a1": false, "a2": false, "b1": false, "c1": false, "c2": true, "c3": true} {
		_, err := s.Session(ctx, hash)
		if alive && err != nil {
			t.Errorf("Session(%s) = %v, want it kept", hash, err)
		}
		if !alive && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Session(%s) = %v, want ErrNotFound (deleted)", hash, err)
		}
	}
	if _, err := s.User(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(bob) after DeleteUser = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUser(bob) twice = %v, want ErrNotFound", err)
	}
}

func testTokenListRevoke(t *testing.T, s store.Store) {
	ctx := context.Background()
	exp := t0.Add(24 * time.Hour)
	want := []store.Token{
		{Name: "ci", Hash: "h-ci", Role: store.RoleDeployer, CreatedAt: t0, ExpiresAt: &exp},
		{Name: "grafana", Hash: "h-grafana", Role: store.RoleViewer, CreatedAt: t0},
	}
	for i := range want {
		if err := s.CreateToken(ctx, &want[i]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListTokens(ctx)
	if err != nil {
		t.Fatalf("ListTokens = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListTokens (-want +got):\n%s", diff)
	}
	if err := s.DeleteToken(ctx, want[0].ID); err != nil {
		t.Fatalf("DeleteToken(%d) = %v", want[0].ID, err)
	}
	if _, err := s.TokenByHash(ctx, "h-ci"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(revoked) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, want[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteToken(%d) twice = %v, want ErrNotFound", want[0].ID, err)
	}
	if got, _ := s.ListTokens(ctx); len(got) != 1 || got[0].Name != "grafana" {
		t.Errorf("ListTokens after revoking ci = %+v, want only grafana", got)
	}
}
