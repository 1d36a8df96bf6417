package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/google/go-cmp/cmp"
)

// Two deploys migrating the same database at once: each file is applied
// exactly once, and the run that lost the race finds nothing left to do.
func TestTwoRunnersRace(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		files := parse(t,
			"expand/001_items.sql", itemsSQL,
			"expand/002_email.sql", "ALTER TABLE items ADD COLUMN email text;\n")
		var wg sync.WaitGroup
		applied := make([]int, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		for i := range 2 {
			db := tg.open(t) // each deploy has its own pool, as two bascule instances would
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := &migrate.Runner{Dialect: tg.d}
				done, err := r.Apply(context.Background(), db, files, "v1", nil)
				applied[i], errs[i] = len(done), err
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("run %d = %v, want it to wait for the other and succeed", i, err)
			}
		}
		if applied[0]+applied[1] != 2 || (applied[0] != 0 && applied[1] != 0) {
			t.Errorf("runs applied %v files, want one run to apply both and the other none", applied)
		}
		want := []string{"expand/001_items by v1", "expand/002_email by v1"}
		if diff := cmp.Diff(want, records(t, tg, tg.open(t))); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}

// A run that finds the migration lock taken says who holds it and waits;
// it applies once the holder is done.
func TestApplyWaitsForTheMigrationLock(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		holderDB := tg.open(t)
		ctx := context.Background()
		unlock, err := tg.d.Lock(ctx, holderDB, time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		var progress lines
		result := make(chan error, 1)
		go func() {
			r := &migrate.Runner{Dialect: tg.d, LockWait: 30 * time.Second}
			_, err := r.Apply(ctx, tg.open(t), parse(t, "expand/001_items.sql", itemsSQL), "v1", progress.add)
			result <- err
		}()
		waitFor(t, 10*time.Second, "the run to report the lock holder", func() bool { return progress.contains("is held by") })
		select {
		case err := <-result:
			t.Fatalf("Apply returned (%v) while another run held the lock", err)
		default:
		}
		if err := unlock(); err != nil {
			t.Fatal(err)
		}
		if err := <-result; err != nil {
			t.Fatalf("Apply after the lock was released = %v", err)
		}
		if !tableExists(t, tg, holderDB, "items") {
			t.Error("items missing after the run got the lock")
		}
	})
}

// A run that cannot get the lock within LockWait fails clearly and
// applies nothing.
func TestApplyFailsWhenTheLockStaysHeld(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		ctx := context.Background()
		unlock, err := tg.d.Lock(ctx, tg.open(t), time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		r := &migrate.Runner{Dialect: tg.d, LockWait: 200 * time.Millisecond}
		_, err = r.Apply(ctx, db, parse(t, "expand/001_items.sql", itemsSQL), "v1", nil)
		if !errors.Is(err, migrate.ErrLocked) {
			t.Fatalf("Apply while the lock is held = %v, want ErrLocked", err)
		}
		for _, want := range []string{"holds the migration lock", "let it finish"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if tableExists(t, tg, db, "items") {
			t.Error("items was created although the run never got the lock")
		}
	})
}

// blockItems opens a transaction that holds a lock on items that ALTER
// TABLE must wait for, as a long production transaction would. The
// returned func ends it.
func blockItems(t *testing.T, tg target, db *sql.DB) func() {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt := "LOCK TABLE items IN ACCESS SHARE MODE"
	if tg.name == "sqlite" {
		stmt = "INSERT INTO items (id, name) VALUES (1000, 'blocker')" // takes SQLite's write lock
	}
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	end := func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(end)
	return end
}

// A statement blocked by another session's lock gives up after
// lock_timeout and is retried; production queries on the table are not
// held up meanwhile (they would queue behind a waiting ALTER TABLE for as
// long as it waits); once the blocker ends, a retry succeeds.
func TestLockTimeoutRetriesWithoutHoldingUpProduction(t *testing.T) {
	tg := target{"postgres", nil, ""}
	for _, x := range targetsFor(t) {
		if x.name == "postgres" {
			tg = x
		}
	}
	db := tg.open(t)
	exec(t, db, itemsSQL)
	release := blockItems(t, tg, tg.open(t))
	var progress lines
	result := make(chan error, 1)
	go func() {
		r := &migrate.Runner{Dialect: tg.d, LockTimeout: 100 * time.Millisecond, LockRetries: 8, RetryBackoff: 20 * time.Millisecond}
		_, err := r.Apply(context.Background(), db, parse(t, "expand/002_note.sql", "ALTER TABLE items ADD COLUMN note text;\n"), "v2", progress.add)
		result <- err
	}()
	waitFor(t, 10*time.Second, "a lock timeout and a retry", func() bool { return progress.contains("retrying in") })
	// Catch the ALTER while it waits in the lock queue again, then query
	// the table as production would: the query gets through although the
	// blocker still holds its lock.
	probe := tg.open(t)
	waitFor(t, 10*time.Second, "the ALTER TABLE to wait for its lock again", func() bool { return alterWaiting(t, probe) })
	qctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := probe.QueryRowContext(qctx, "SELECT count(*) FROM items").Scan(&n); err != nil {
		t.Fatalf("production SELECT while the migration retried = %v, want it served", err)
	}
	select {
	case err := <-result:
		t.Fatalf("Apply ended (%v) while the blocker still held its lock", err)
	default:
	}
	release()
	if err := <-result; err != nil {
		t.Fatalf("Apply after the blocker ended = %v, want a retry to succeed", err)
	}
	if got := columnsOf(t, tg, db, "items"); !strings.Contains(strings.Join(got, ","), "note") {
		t.Errorf("items columns = %v, want note added", got)
	}
}

// alterWaiting reports whether a session waits for a lock on items.
func alterWaiting(t *testing.T, db *sql.DB) bool {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'items'::regclass`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// When the blocker never lets go, the run fails cleanly after its retries:
// nothing applied, nothing recorded, and the error says why.
func TestLockTimeoutGivesUpCleanly(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		exec(t, db, itemsSQL)
		records(t, tg, db) // creates the history table, as an earlier deployment did
		blockItems(t, tg, tg.open(t))
		r := &migrate.Runner{Dialect: tg.d, LockTimeout: 50 * time.Millisecond, LockRetries: 2, RetryBackoff: 10 * time.Millisecond}
		var progress lines
		_, err := r.Apply(context.Background(), db, parse(t, "expand/002_note.sql", "ALTER TABLE items ADD COLUMN note text;\n"), "v2", progress.add)
		var le *migrate.LockTimeoutError
		if !errors.As(err, &le) || le.Attempts != 3 {
			t.Fatalf("Apply against a lock that is never released = %v, want a LockTimeoutError after 3 attempts", err)
		}
		if !strings.Contains(err.Error(), "expand/002_note.sql") || !strings.Contains(err.Error(), "nothing of it is applied") {
			t.Errorf("error %q does not name the file and say nothing was applied", err)
		}
		if n := strings.Count(progress.String(), "retrying in"); n != 2 {
			t.Errorf("progress reports %d retries, want 2:\n%s", n, progress.String())
		}
		if got := records(t, tg, db); len(got) != 0 {
			t.Errorf("history = %v, want nothing recorded", got)
		}
	})
}

// targetsFor returns the targets without running subtests.
func targetsFor(t *testing.T) []target { return targets(t) }
