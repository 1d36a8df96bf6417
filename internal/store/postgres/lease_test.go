package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
	"github.com/jackc/pgx/v5"
)

// takeOver makes holder take the lease once the current one expires, and
// returns its lease.
func takeOver(t *testing.T, db *postgres.DB, holder string, ttl time.Duration) store.Lease {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, taken, err := db.AcquireLease(context.Background(), store.LeaseControl, holder, "http://"+holder, ttl)
		if err != nil {
			t.Fatalf("AcquireLease(%s) = %v", holder, err)
		}
		if taken {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s could not take the lease from %s within 10s", holder, l.Holder)
		}
		time.Sleep(max(l.Remaining, time.Millisecond))
	}
}

func TestLeaseTakenOnlyOnceExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pg.NewDatabase(t))
	if _, err := db.CurrentLease(ctx, store.LeaseControl); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CurrentLease before anyone led = %v, want ErrNotFound", err)
	}
	ttl := 400 * time.Millisecond
	a, taken, err := db.AcquireLease(ctx, store.LeaseControl, "a", "http://a", ttl)
	if err != nil || !taken || a.Token != 1 || a.Holder != "a" {
		t.Fatalf("first AcquireLease = %+v, %v, %v; want taken by a with token 1", a, taken, err)
	}
	l, taken, err := db.AcquireLease(ctx, store.LeaseControl, "b", "http://b", ttl)
	if err != nil || taken || l.Holder != "a" || l.Token != 1 || l.Remaining <= 0 {
		t.Fatalf("AcquireLease(b) while a holds it = %+v, %v, %v; want a's lease, not taken", l, taken, err)
	}
	// Renewals keep it from b past several TTLs.
	for range 4 {
		time.Sleep(ttl / 2)
		if _, err := db.RenewLease(ctx, store.LeaseControl, "a", 1, ttl); err != nil {
			t.Fatalf("RenewLease(a) = %v", err)
		}
		if _, taken, _ := db.AcquireLease(ctx, store.LeaseControl, "b", "http://b", ttl); taken {
			t.Fatal("b took a lease a renewed in time")
		}
	}
	b := takeOver(t, db, "b", ttl)
	if b.Token != 2 || b.URL != "http://b" {
		t.Errorf("b's lease = %+v, want token 2 at http://b", b)
	}
	if _, err := db.RenewLease(ctx, store.LeaseControl, "a", 1, ttl); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("a's RenewLease after b took over = %v, want ErrLeaseLost", err)
	}
	// Releasing a lease one no longer holds changes nothing.
	if err := db.ReleaseLease(ctx, store.LeaseControl, "a", 1); err != nil {
		t.Fatal(err)
	}
	if l, _ := db.CurrentLease(ctx, store.LeaseControl); l.Holder != "b" || l.Remaining <= 0 {
		t.Errorf("after a stale release the lease is %+v, want b's, running", l)
	}
	// b releases: a may take it at once, with a new token.
	if err := db.ReleaseLease(ctx, store.LeaseControl, "b", 2); err != nil {
		t.Fatal(err)
	}
	a, taken, err = db.AcquireLease(ctx, store.LeaseControl, "a", "http://a", ttl)
	if err != nil || !taken || a.Token != 3 {
		t.Errorf("AcquireLease(a) after b released = %+v, %v, %v; want taken with token 3", a, taken, err)
	}
}

// TestFencedWritesOfADeposedLeaderAreRefused: every write the pipeline
// makes, done by an instance whose term is over, is refused by the
// database with a clear error and changes nothing; the new leader's go
// through.
func TestFencedWritesOfADeposedLeaderAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pg.NewDatabase(t))
	ttl := 300 * time.Millisecond
	a, _, err := db.AcquireLease(ctx, store.LeaseControl, "a", "http://a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	actx := store.WithFence(ctx, store.Fence{Lease: store.LeaseControl, Token: a.Token})
	if err := db.CreateRelease(ctx, store.Release{Version: "v1", Digest: "sha256:1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	d := store.Deployment{App: "shop", Version: "v1", Color: "green", State: store.StateVerifying, RequestedBy: "alice",
		CreatedAt: now, UpdatedAt: now, Steps: []store.Step{{Name: "smoke", State: store.StepRunning, StartedAt: now}}}
	if err := db.CreateDeployment(actx, &d); err != nil {
		t.Fatalf("CreateDeployment by the leader = %v", err)
	}

	b := takeOver(t, db, "b", time.Minute)
	bctx := store.WithFence(ctx, store.Fence{Lease: store.LeaseControl, Token: b.Token})

	late := d
	late.State, late.Steps = store.StateReady, []store.Step{{Name: "smoke", State: store.StepDone, StartedAt: now}}
	writes := []struct {
		name  string
		write func(ctx context.Context) error
	}{
		{"UpdateDeployment", func(ctx context.Context) error { return db.UpdateDeployment(ctx, &late) }},
		{"CreateDeployment", func(ctx context.Context) error {
			d2 := d
			d2.State = store.StateQueued
			return db.CreateDeployment(ctx, &d2)
		}},
		{"PutSlot", func(ctx context.Context) error {
			return db.PutSlot(ctx, "shop", store.Slot{Color: "green", Version: "v1", DeploymentID: d.ID, UpdatedAt: now})
		}},
		{"AppendAudit", func(ctx context.Context) error {
			return db.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: "bascule", Action: "go-live", Outcome: "done"})
		}},
		{"HoldRelease", func(ctx context.Context) error { return db.HoldRelease(ctx, "v1", "rolled back by the guard") }},
		{"RecordEvent", func(ctx context.Context) error {
			return db.RecordEvent(ctx, &store.Event{At: now, Source: store.EventPublished, Payload: []byte(`{}`)})
		}},
	}
	for _, w := range writes {
		err := w.write(actx)
		var fe *store.FencedError
		if !errors.As(err, &fe) || !errors.Is(err, store.ErrFenced) || fe.Token != a.Token || fe.Current != b.Token {
			t.Errorf("%s by the deposed leader = %v; want a *store.FencedError naming tokens %d and %d", w.name, err, a.Token, b.Token)
			continue
		}
		if !strings.Contains(err.Error(), "another instance leads") {
			t.Errorf("%s error %q does not say why", w.name, err)
		}
	}
	got, err := db.Deployment(ctx, d.ID)
	if err != nil || got.State != store.StateVerifying || got.Steps[0].State != store.StepRunning {
		t.Errorf("deployment after the refused writes = %s %+v, %v; want unchanged (verifying, smoke running)", got.State, got.Steps, err)
	}
	if slots, _ := db.Slots(ctx, "shop"); len(slots) != 0 {
		t.Errorf("slots after the refused PutSlot = %v, want none", slots)
	}
	if entries, _ := db.ListAudit(ctx, 10); len(entries) != 0 {
		t.Errorf("audit after the refused append = %+v, want empty", entries)
	}
	if rel, _ := db.Release(ctx, "v1"); rel.Hold != "" {
		t.Errorf("release hold after the refused write = %q, want none", rel.Hold)
	}
	// The new leader's writes, and writes not fenced at all (a user's own
	// session, a token), go through.
	if err := db.UpdateDeployment(bctx, &late); err != nil {
		t.Errorf("UpdateDeployment by the new leader = %v", err)
	}
	if err := db.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: "alice", Action: "login", Outcome: "done"}); err != nil {
		t.Errorf("unfenced AppendAudit = %v", err)
	}
}

// TestTakeoverWaitsForAFencedWriteInFlight: a fenced write holds the lease
// row from its token check until it commits, so a takeover cannot slip in
// between the check and the write (check-then-write is no fence): the
// takeover waits, the write lands in the old term, and the old leader's
// next write is refused.
func TestTakeoverWaitsForAFencedWriteInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.NewDatabase(t)
	db := open(t, url)
	a, _, err := db.AcquireLease(ctx, store.LeaseControl, "a", "http://a", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	actx := store.WithFence(ctx, store.Fence{Lease: store.LeaseControl, Token: a.Token})
	if err := db.CreateRelease(ctx, store.Release{Version: "v1", Digest: "sha256:1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	d := store.Deployment{App: "shop", Version: "v1", Color: "green", State: store.StateVerifying, RequestedBy: "alice",
		CreatedAt: now, UpdatedAt: now}
	if err := db.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	// Another session holds the deployment's row, so a's fenced write
	// checks its token and then waits, inside its transaction.
	blocker := connect(t, url)
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM deployments WHERE id = $1 FOR UPDATE`, d.ID); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		ready := d
		ready.State = store.StateReady
		wrote <- db.UpdateDeployment(actx, &ready)
	}()
	watch := connect(t, url)
	waitBlocked(t, watch, "UPDATE deployments%")
	for { // the lease expires while the write is in flight
		l, err := db.CurrentLease(ctx, store.LeaseControl)
		if err != nil {
			t.Fatal(err)
		}
		if l.Remaining <= 0 {
			break
		}
		time.Sleep(l.Remaining)
	}
	took := make(chan store.Lease, 1)
	go func() {
		l, _, _ := db.AcquireLease(ctx, store.LeaseControl, "b", "http://b", time.Minute)
		took <- l
	}()
	waitBlocked(t, watch, "INSERT INTO leader_lease%")
	select {
	case l := <-took:
		t.Fatalf("b took the lease (%+v) while a's checked write was in flight", l)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Errorf("a's write in flight = %v, want it to land in a's term", err)
	}
	l := <-took
	if l.Holder != "b" || l.Token != a.Token+1 {
		t.Errorf("after a's write committed the lease is %+v, want b's with token %d", l, a.Token+1)
	}
	if err := db.UpdateDeployment(actx, &d); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's next write = %v, want ErrFenced", err)
	}
}

// waitBlocked waits until a session runs a statement like pattern and
// waits for a lock.
func waitBlocked(t *testing.T, conn *pgx.Conn, pattern string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND ltrim(query) LIKE $1`, pattern).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session blocked on a lock running %q within 10s", pattern)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
