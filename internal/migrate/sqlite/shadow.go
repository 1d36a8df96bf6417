package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bascule/bascule/internal/migrate"
)

// Shadow copies the schema into a new file in a temporary directory
// (under opts.At when set): every CREATE statement SQLite kept in
// sqlite_master, in the order tables, indexes, views, triggers, then the
// rows of bascule_migrations. SQLite keeps each object's original
// statement, so the copy is exact. Triggers are only attempted.
func (d Dialect) Shadow(ctx context.Context, db *sql.DB, opts migrate.ShadowOptions) (*migrate.Shadow, error) {
	note := opts.Note
	if note == nil {
		note = func(string) {}
	}
	dir, err := os.MkdirTemp(opts.At, "bascule-shadow-*")
	if err != nil {
		return nil, fmt.Errorf("create shadow directory: %w", err)
	}
	file := filepath.Join(dir, "shadow.db")
	sh := &migrate.Shadow{URL: sameForm(opts.LiveURL, file), Name: file,
		Drop: func(context.Context) error { return os.RemoveAll(dir) }}
	if err := d.fill(ctx, db, file, note); err != nil {
		return nil, errors.Join(err, sh.Drop(ctx))
	}
	return sh, nil
}

func (d Dialect) fill(ctx context.Context, live *sql.DB, file string, note func(string)) error {
	stmts, err := schemaStatements(ctx, live)
	if err != nil {
		return err
	}
	shadow, err := d.Open(ctx, file)
	if err != nil {
		return err
	}
	defer shadow.Close()
	tx, err := shadow.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql); err != nil {
			if s.typ == "trigger" {
				note(fmt.Sprintf("trigger %s not copied: %v", s.name, err))
				continue
			}
			return fmt.Errorf("create %s %s: %w", s.typ, s.name, err)
		}
	}
	if err := copyHistory(ctx, live, tx); err != nil {
		return err
	}
	return tx.Commit()
}

type object struct{ typ, name, sql string }

// schemaStatements returns the statements that recreate live's schema.
// SQLite's own objects and the tables a virtual table keeps its data in (it
// makes them again) are left out.
func schemaStatements(ctx context.Context, live *sql.DB) ([]object, error) {
	conn, err := live.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the live schema: %w", err)
	}
	defer conn.Close()
	skip := virtualShadowTables(ctx, conn)
	var out []object
	err = migrate.EachRow(ctx, conn, `SELECT type, name, sql FROM sqlite_master
WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid`, func(rows *sql.Rows) error {
		var o object
		if err := rows.Scan(&o.typ, &o.name, &o.sql); err != nil {
			return err
		}
		if !skip[o.name] {
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the live schema: %w", err)
	}
	return out, nil
}

// copyHistory copies the rows of bascule_migrations, so that the shadow
// has the same pending files as production.
func copyHistory(ctx context.Context, live *sql.DB, tx *sql.Tx) error {
	var n int
	if err := live.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
		migrate.HistoryTable).Scan(&n); err != nil || n == 0 {
		return err
	}
	cols := "phase, version, name, checksum, applied_at, release"
	rows, err := live.QueryContext(ctx, "SELECT "+cols+" FROM "+migrate.HistoryTable)
	if err != nil {
		return fmt.Errorf("read %s: %w", migrate.HistoryTable, err)
	}
	defer rows.Close()
	insert := "INSERT INTO " + migrate.HistoryTable + " (" + cols + ") VALUES (" + strings.Repeat("?, ", 5) + "?)"
	for rows.Next() {
		vals := make([]any, 6)
		ptrs := make([]any, 6)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", migrate.HistoryTable, err)
		}
		if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
			return fmt.Errorf("copy %s: %w", migrate.HistoryTable, err)
		}
	}
	return rows.Err()
}
