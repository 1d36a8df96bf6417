package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// schemaLockKey is the advisory lock taken by every schema transaction. Its
// value is arbitrary but fixed ("bascule" in ASCII), and distinct from the
// keys used for applications' own migrations.
const schemaLockKey int64 = 0x62617363756c65

// migrate applies the schema files not applied yet, in name order.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return fmt.Errorf("list schema files: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.applySchemaFile(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// applySchemaFile applies one file in one transaction. The transaction
// first takes the schema lock, held until it ends: a second instance
// starting at the same moment waits, then finds the file recorded and skips
// it. The bookkeeping table is created under the lock too, because CREATE
// TABLE IF NOT EXISTS is not safe against itself in PostgreSQL.
func (db *DB) applySchemaFile(ctx context.Context, name string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLockKey); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var applied bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, name).Scan(&applied); err != nil {
			return fmt.Errorf("check schema %s: %w", name, err)
		}
		if applied {
			return nil
		}
		body, err := schemaFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read schema %s: %w", name, err)
		}
		// Without arguments pgx uses the simple protocol, which runs the
		// file's several statements in one round trip.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("apply schema %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, name); err != nil {
			return fmt.Errorf("record schema %s: %w", name, err)
		}
		return nil
	})
}
