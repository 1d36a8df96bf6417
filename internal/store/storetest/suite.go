// Package storetest is the conformance suite that every store.Store
// implementation runs, so that SQLite and PostgreSQL behave the same.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/google/go-cmp/cmp"
)

// Run runs the suite; open must return a new, empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Releases", func(t *testing.T) { testReleases(t, open(t)) })
	t.Run("ImageReleases", func(t *testing.T) { testImageReleases(t, open(t)) })
	t.Run("OneActiveDeployment", func(t *testing.T) { testOneActive(t, open(t)) })
	t.Run("DeploymentRoundTrip", func(t *testing.T) { testDeploymentRoundTrip(t, open(t)) })
	t.Run("Slots", func(t *testing.T) { testSlots(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("UpdateUser", func(t *testing.T) { testUpdateUser(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("SessionSweeps", func(t *testing.T) { testSessionSweeps(t, open(t)) })
	t.Run("TokenListRevoke", func(t *testing.T) { testTokenListRevoke(t, open(t)) })
	t.Run("FlagVersions", func(t *testing.T) { testFlagVersions(t, open(t)); testFlagRace(t, open(t)) })
	t.Run("Notifications", func(t *testing.T) { runNotifications(t, open) })
	t.Run("Routers", func(t *testing.T) { testRouters(t, open(t)) })
	t.Run("RoutingTable", func(t *testing.T) { testRoutingTable(t, open(t)) })
	t.Run("RoutingTableFenced", func(t *testing.T) { testRoutingTableFenced(t, open(t)) })
	t.Run("Progressive", func(t *testing.T) { testProgressive(t, open(t)) })
	t.Run("ProgressiveFenced", func(t *testing.T) { testProgressiveFenced(t, open(t)) })
	t.Run("RoutingWatch", func(t *testing.T) { testRoutingWatch(t, open(t)) })
	t.Run("Retention", func(t *testing.T) { testRetention(t, open(t)) })
	t.Run("RetentionFenced", func(t *testing.T) { testRetentionFenced(t, open(t)) })
}

var t0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

func addRelease(t *testing.T, s store.Store, version string, at time.Time) {
	t.Helper()
	r := store.Release{Version: version, Digest: "sha256:" + version, Size: 3, Format: "file", Filename: "app", CreatedBy: "ci", CreatedAt: at}
	if err := s.CreateRelease(context.Background(), r); err != nil {
		t.Fatalf("CreateRelease(%s) = %v", version, err)
	}
}

func testReleases(t *testing.T, s store.Store) {
	ctx := context.Background()
	addRelease(t, s, "v1", t0)
	addRelease(t, s, "v2", t0.Add(time.Minute))
	err := s.CreateRelease(ctx, store.Release{Version: "v1", Digest: "sha256:other", CreatedAt: t0})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateRelease(v1 again) = %v, want ErrConflict", err)
	}
	if _, err := s.Release(ctx, "v9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Release(v9) = %v, want ErrNotFound", err)
	}
	got, err := s.Release(ctx, "v1")
	if err != nil || got.Digest != "sha256:v1" || !got.CreatedAt.Equal(t0) {
		t.Errorf("Release(v1) = %+v, %v; want digest sha256:v1 created %v", got, err, t0)
	}
	list, err := s.ListReleases(ctx)
	if err != nil || len(list) != 2 || list[0].Version != "v2" {
		t.Errorf("ListReleases = %+v, %v; want v2 then v1", list, err)
	}
	if got.Hold != "" {
		t.Errorf("a new release's Hold = %q, want none", got.Hold)
	}
	if err := s.HoldRelease(ctx, "v2", "guard: 31% failed"); err != nil {
		t.Errorf("HoldRelease(v2) = %v", err)
	}
	if err := s.HoldRelease(ctx, "v9", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("HoldRelease(v9) = %v, want ErrNotFound", err)
	}
	if got, err := s.Release(ctx, "v2"); err != nil || got.Hold != "guard: 31% failed" {
		t.Errorf("Release(v2) after HoldRelease = %+v, %v; want the hold", got, err)
	}
	if list, _ := s.ListReleases(ctx); len(list) != 2 || list[0].Hold == "" || list[1].Hold != "" {
		t.Errorf("ListReleases after HoldRelease(v2) = %+v, want v2 held, v1 not", list)
	}
}

// A release that is an image keeps its reference by digest beside the
// artifact of its migrations, in Release and in ListReleases.
func testImageReleases(t *testing.T, s store.Store) {
	ctx := context.Background()
	const image = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	addRelease(t, s, "v1", t0)
	r := store.Release{Version: "v2", Digest: "sha256:migrations", Size: 45, Format: "tar.gz", Filename: "migrations.tar.gz",
		CreatedBy: "ci", CreatedAt: t0.Add(time.Minute), Image: image}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatalf("CreateRelease(v2 image) = %v", err)
	}
	got, err := s.Release(ctx, "v2")
	if err != nil {
		t.Fatalf("Release(v2) = %v", err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("Release(v2) differs from what was registered (-want +got):\n%s", diff)
	}
	list, err := s.ListReleases(ctx)
	if err != nil || len(list) != 2 || list[0].Image != image || list[1].Image != "" {
		t.Errorf("ListReleases = %+v, %v; want v2 with its image, then v1 without", list, err)
	}
}

func newDeployment(version string) *store.Deployment {
	return &store.Deployment{App: "shop", Version: version, Color: "green", State: store.StateQueued,
		RequestedBy: "alice", CreatedAt: t0, UpdatedAt: t0}
}

func testOneActive(t *testing.T, s store.Store) {
	ctx := context.Background()
	addRelease(t, s, "v1", t0)
	first := newDeployment("v1")
	if err := s.CreateDeployment(ctx, first); err != nil {
		t.Fatalf("CreateDeployment = %v", err)
	}
	if err := s.CreateDeployment(ctx, newDeployment("v1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateDeployment while one is active = %v, want ErrConflict", err)
	}
	active, err := s.ActiveDeployment(ctx, "shop")
	if err != nil || active.ID != first.ID {
		t.Fatalf("ActiveDeployment = %d, %v; want %d", active.ID, err, first.ID)
	}
	first.State = store.StateReady
	if err := s.UpdateDeployment(ctx, first); err != nil {
		t.Fatalf("UpdateDeployment = %v", err)
	}
	if _, err := s.ActiveDeployment(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ActiveDeployment after ready = %v, want ErrNotFound", err)
	}
	if err := s.CreateDeployment(ctx, newDeployment("v1")); err != nil {
		t.Fatalf("CreateDeployment after the first is ready = %v", err)
	}
}

func testDeploymentRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	addRelease(t, s, "v1", t0)
	d := newDeployment("v1")
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(2 * time.Second)
	d.State, d.Error = store.StateFailed, "health check failed"
	d.LogTail = []string{"listening", "panic: boom"}
	d.Steps = []store.Step{{Name: "starting", State: store.StepFailed, Message: "exited", StartedAt: t0, EndedAt: &end}}
	d.FinishedAt, d.UpdatedAt = &end, end
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.Deployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*d, got); diff != "" {
		t.Errorf("Deployment round trip (-want +got):\n%s", diff)
	}
	if _, err := s.Deployment(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Deployment(999) = %v, want ErrNotFound", err)
	}
	list, err := s.ListDeployments(ctx, "shop", 10)
	if err != nil || len(list) != 1 || list[0].ID != d.ID {
		t.Errorf("ListDeployments = %+v, %v", list, err)
	}
}

func testSlots(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, sl := range []store.Slot{
		{Color: "blue", Version: "v1", DeploymentID: 1, UpdatedAt: t0},
		{Color: "green", Version: "v2", DeploymentID: 2, UpdatedAt: t0},
		{Color: "blue", Version: "v3", DeploymentID: 3, UpdatedAt: t0},
	} {
		if err := s.PutSlot(ctx, "shop", sl); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Slots(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got["blue"].Version != "v3" || got["green"].Version != "v2" || len(got) != 2 {
		t.Errorf("Slots = %+v, want blue v3, green v2", got)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := &store.Token{Name: "ci", Hash: "abc", Role: store.RoleDeployer, CreatedAt: t0}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenByHash(ctx, "abc")
	if err != nil || got.Role != store.RoleDeployer || got.ID != tok.ID {
		t.Errorf("TokenByHash = %+v, %v", got, err)
	}
	if _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(unknown) = %v, want ErrNotFound", err)
	}
	if n, err := s.CountTokens(ctx); err != nil || n != 1 {
		t.Errorf("CountTokens = %d, %v; want 1", n, err)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, a := range []string{"deploy", "go-live"} {
		if err := s.AppendAudit(ctx, &store.AuditEntry{At: t0, Actor: "alice", Action: a, Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListAudit(ctx, 10)
	if err != nil || len(got) != 2 || got[0].Action != "go-live" {
		t.Errorf("ListAudit = %+v, %v; want go-live first", got, err)
	}
	// Where an action came from travels in the context of the request.
	src := store.WithSource(ctx, "203.0.113.7 via session")
	if err := s.AppendAudit(src, &store.AuditEntry{At: t0, Actor: "bob", Action: "rollback", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListAudit(ctx, 1); err != nil || got[0].Source != "203.0.113.7 via session" {
		t.Errorf("ListAudit after an append with a source = %+v, %v; want the source kept", got, err)
	}
}
