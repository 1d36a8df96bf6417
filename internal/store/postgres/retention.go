package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ store.Retention = (*DB)(nil)

// inUse selects the versions a slot runs or a deployment not in a final
// state deploys. CollectRelease repeats it inside its UPDATE.
const inUse = `SELECT version FROM slots
	UNION SELECT version FROM deployments WHERE state NOT IN ('finalized', 'failed', 'rolled_back')`

// ReleasesInUse returns the versions a slot runs or a deployment not in a
// final state deploys, sorted.
func (db *DB) ReleasesInUse(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT version FROM (`+inUse+`) AS used ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list releases in use: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list releases in use: %w", err)
	}
	return out, nil
}

// CollectRelease marks the release collected, under the caller's fence,
// in one statement that also checks it is not in use. A deployment
// inserted by a transaction that commits while the statement runs may
// escape the check: the pipeline's fetch step reads the release again and
// refuses a collected one (ADR 0020).
func (db *DB) CollectRelease(ctx context.Context, version string, at time.Time) error {
	var tag pgconn.CommandTag
	err := db.write(ctx, func(q querier) (err error) {
		tag, err = q.Exec(ctx, `UPDATE releases SET collected_at = COALESCE(collected_at, $1)
			WHERE version = $2 AND version NOT IN (`+inUse+`)`, at, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("collect release %s: %w", version, adaptError(err))
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	if _, err := db.Release(ctx, version); err != nil {
		return fmt.Errorf("collect release: %w", err) // ErrNotFound, or why it could not tell
	}
	return fmt.Errorf("collect release %s: %w: a slot runs it or a deployment of it is not finished", version, store.ErrConflict)
}
