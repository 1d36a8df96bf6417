package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/google/go-cmp/cmp"
)

const itemsSQL = `CREATE TABLE items (
    id integer PRIMARY KEY,
    name text NOT NULL,
    legacy_note text
);
`

func TestApplyRecordsEachFileOnce(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		index := "-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY items_name_idx ON items (name);\n"
		if tg.name == "sqlite" {
			index = "-- +goose NO TRANSACTION\nCREATE INDEX items_name_idx ON items (name);\n"
		}
		files := parse(t,
			"expand/001_items.sql", itemsSQL,
			"expand/002_email.sql", "ALTER TABLE items ADD COLUMN email text;\n",
			"expand/003_name_idx.sql", index)
		r := &migrate.Runner{Dialect: tg.d}
		ctx := context.Background()
		done, err := r.Apply(ctx, db, files, "v1", nil)
		if err != nil {
			t.Fatalf("Apply = %v", err)
		}
		if len(done) != 3 {
			t.Errorf("Apply applied %d files, want 3", len(done))
		}
		want := []string{"expand/001_items by v1", "expand/002_email by v1", "expand/003_name_idx by v1"}
		if diff := cmp.Diff(want, records(t, tg, db)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if got := columnsOf(t, tg, db, "items"); !strings.Contains(strings.Join(got, ","), "email") {
			t.Errorf("items has columns %v, want email among them", got)
		}
		done, err = r.Apply(ctx, db, files, "v2", nil)
		if err != nil || len(done) != 0 {
			t.Errorf("second Apply = %d files, %v; want nothing to do", len(done), err)
		}
	})
}

func TestApplyRefusesDrift(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		r := &migrate.Runner{Dialect: tg.d}
		ctx := context.Background()
		if _, err := r.Apply(ctx, db, parse(t, "expand/001_items.sql", itemsSQL), "v1", nil); err != nil {
			t.Fatal(err)
		}
		changed := parse(t,
			"expand/001_items.sql", strings.Replace(itemsSQL, "legacy_note text", "legacy_note varchar(10)", 1),
			"expand/002_email.sql", "ALTER TABLE items ADD COLUMN email text;\n")
		_, err := r.Apply(ctx, db, changed, "v2", nil)
		var de *migrate.DriftError
		if !errors.As(err, &de) || de.Path != "expand/001_items.sql" {
			t.Fatalf("Apply of a changed applied file = %v, want a DriftError naming expand/001_items.sql", err)
		}
		if !strings.Contains(err.Error(), "release v1 applied it") {
			t.Errorf("drift error %q does not say which release applied the file", err)
		}
		if got := records(t, tg, db); len(got) != 1 {
			t.Errorf("history after drift = %v, want only 001 (nothing applied after the drift)", got)
		}
	})
}

// A statement fails in the third file: the first two stay applied and
// recorded, nothing of the third is applied, and the error names the file
// and the line, with the database's message.
func TestApplyFailureHalfway(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		files := parse(t,
			"expand/001_items.sql", itemsSQL,
			"expand/002_email.sql", "ALTER TABLE items ADD COLUMN email text;\n",
			"expand/003_broken.sql", "CREATE TABLE half (id integer);\n\nCREATE TABLE broken (\n    id integer,\n    name text,,\n    note text\n);\n")
		r := &migrate.Runner{Dialect: tg.d}
		done, err := r.Apply(context.Background(), db, files, "v2", nil)
		var se *migrate.StatementError
		if !errors.As(err, &se) {
			t.Fatalf("Apply = %v, want a StatementError", err)
		}
		// PostgreSQL says where in the statement; SQLite only which one.
		wantLine := 5
		if tg.name == "sqlite" {
			wantLine = 3
		}
		if se.Path != "expand/003_broken.sql" || se.Line != wantLine {
			t.Errorf("error at %s:%d, want expand/003_broken.sql:%d", se.Path, se.Line, wantLine)
		}
		if !strings.Contains(err.Error(), "syntax error") || !strings.HasPrefix(err.Error(), "expand/003_broken.sql:") {
			t.Errorf("error %q: want file:line then the database's syntax error", err)
		}
		if len(done) != 2 {
			t.Errorf("Apply reports %d files applied, want 2", len(done))
		}
		want := []string{"expand/001_items by v2", "expand/002_email by v2"}
		if diff := cmp.Diff(want, records(t, tg, db)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if tableExists(t, tg, db, "half") {
			t.Error("table half, created by the failing file's first statement, exists: the file was half-applied")
		}
	})
}

func TestHistoryOfAnEmptyDatabase(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		if got := records(t, tg, db); len(got) != 0 {
			t.Errorf("History of a new database = %v, want nothing", got)
		}
	})
}
