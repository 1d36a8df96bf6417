package migrate_test

import (
	"context"
	"errors"
	"os"
	osexec "os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/migrate"
)

// pgDumpPreamble is how `pg_dump` starts every file it writes: a schema
// dumped from one database and pasted into a migration brings it along.
const pgDumpPreamble = `SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
`

// A migration file that switches the lock timeout off (a pg_dump preamble
// does) must not switch it off for the files after it: a later ALTER TABLE
// behind a long production transaction still gives up after lock_timeout,
// instead of waiting, with every production query on the table queued
// behind it, for as long as that transaction lasts.
func TestTimeoutsHoldForEveryFile(t *testing.T) {
	cases := []struct{ name, first string }{
		{"pg_dump preamble in a transaction", pgDumpPreamble + "CREATE TABLE public.notes (id integer NOT NULL, body text);\n"},
		{"no-transaction file", "-- +goose NO TRANSACTION\nSET lock_timeout = 0;\nSET statement_timeout = 0;\nCREATE TABLE notes (id integer);\nCREATE INDEX CONCURRENTLY notes_id_idx ON notes (id);\n"},
		{"session SET in a transaction", "SET SESSION lock_timeout = '1h';\nCREATE TABLE notes (id integer);\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := target{"postgres", targetsFor(t)[0].d, pg.NewDatabase(t)}
			db := tg.open(t)
			exec(t, db, itemsSQL)
			files := parse(t,
				"expand/001_first.sql", c.first,
				"expand/002_note.sql", "ALTER TABLE items ADD COLUMN note text;\n")
			r := &migrate.Runner{Dialect: tg.d, LockTimeout: 100 * time.Millisecond, LockRetries: 1, RetryBackoff: 10 * time.Millisecond}
			records(t, tg, db) // the history table exists, as after an earlier deployment
			blockItems(t, tg, tg.open(t))
			// Bounded, so that the old behaviour (waiting as long as the
			// blocker lives) fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err := r.Apply(ctx, db, files, "v2", nil)
			var le *migrate.LockTimeoutError
			if !errors.As(err, &le) {
				t.Fatalf("Apply(002) behind a held lock after %s = %v; want a LockTimeoutError: 001's SET must not outlive 001",
					time.Since(start).Round(time.Millisecond), err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Apply(002) gave up after %s, want about 2 × lock_timeout", d)
			}
			if got := records(t, tg, db); strings.Join(got, ",") != "expand/001_first by v2" {
				t.Errorf("history = %v, want only 001 recorded", got)
			}
		})
	}
}

// A pg_dump file empties search_path; its record in bascule_migrations and
// the files after it still find their tables.
func TestPgDumpFileApplies(t *testing.T) {
	tg := target{"postgres", targetsFor(t)[0].d, pg.NewDatabase(t)}
	db := tg.open(t)
	files := parse(t,
		"expand/001_dump.sql", pgDumpPreamble+"CREATE TABLE public.items (id integer NOT NULL, name text);\n",
		"expand/002_note.sql", "ALTER TABLE items ADD COLUMN note text;\n")
	r := &migrate.Runner{Dialect: tg.d}
	if _, err := r.Apply(context.Background(), db, files, "v1", nil); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	if got := records(t, tg, db); strings.Join(got, ",") != "expand/001_dump by v1,expand/002_note by v1" {
		t.Errorf("history = %v, want both files", got)
	}
}

// statement_timeout bounds every migration statement, so that a statement
// bascule can no longer cancel (bascule was killed) ends by itself; a file
// that sets it in its own transaction cannot lift it for the next file.
func TestStatementTimeout(t *testing.T) {
	tg := target{"postgres", targetsFor(t)[0].d, pg.NewDatabase(t)}
	db := tg.open(t)
	r := &migrate.Runner{Dialect: tg.d, StatementTimeout: 300 * time.Millisecond}
	files := parse(t,
		"expand/001_lift.sql", "SET statement_timeout = 0;\nCREATE TABLE a (id integer);\n",
		"expand/002_slow.sql", "CREATE TABLE b (id integer);\nSELECT pg_sleep(5);\n")
	start := time.Now()
	done, err := r.Apply(context.Background(), db, files, "v1", nil)
	var se *migrate.StatementError
	if !errors.As(err, &se) || se.Path != "expand/002_slow.sql" || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("Apply of a 5 s statement with statement_timeout 300ms = %v, want a statement timeout in 002", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Apply took %s, want the statement cancelled after 300ms", d)
	}
	if len(done) != 1 || tableExists(t, tg, db, "b") {
		t.Errorf("applied %d files, table b exists = %v; want 001 applied and nothing of 002", len(done), tableExists(t, tg, db, "b"))
	}
}

// A bascule killed mid-migration leaves its PostgreSQL session running the
// statement, in its transaction, holding the migration lock and the
// table's lock, until the statement ends (PostgreSQL notices a dead
// client only when it talks to it). The next run ends that session before
// it takes the lock: it does not wait for it, and nothing of the killed
// run's file stays.
func TestLeftoverSessionOfAKilledBasculeIsEnded(t *testing.T) {
	tg := target{"postgres", targetsFor(t)[0].d, pg.NewDatabase(t)}
	db := tg.open(t)
	exec(t, db, itemsSQL)
	records(t, tg, db)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := osexec.Command(self, hangArg, tg.url)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { child.Wait(); close(exited) }()
	t.Cleanup(func() { child.Process.Kill(); <-exited })
	waitFor(t, 20*time.Second, "the child's migration to sleep holding items", func() bool {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND application_name LIKE 'bascule migrate%' AND pid <> pg_backend_pid()`).Scan(&n)
		return err == nil && n == 1
	})
	child.Process.Kill()
	<-exited
	r := &migrate.Runner{Dialect: tg.d, LockWait: 2 * time.Second, LockTimeout: 200 * time.Millisecond}
	var progress lines
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := r.Apply(ctx, db, parse(t, "expand/002_note.sql", "ALTER TABLE items ADD COLUMN note text;\n"), "v3", progress.add); err != nil {
		t.Fatalf("Apply after a bascule was killed mid-migration = %v\n%s", err, progress.String())
	}
	if !progress.contains("left by a bascule that stopped during a migration") || !progress.contains("pg_sleep(600)") {
		t.Errorf("progress does not say which session it ended:\n%s", progress.String())
	}
	if cols := strings.Join(columnsOf(t, tg, db, "items"), ","); !strings.Contains(cols, "note") || strings.Contains(cols, "held") {
		t.Errorf("items columns = %s, want note added and nothing of the killed run's file", cols)
	}
}
