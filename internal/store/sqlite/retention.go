package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
)

var _ store.Retention = (*DB)(nil)

// inUse selects the versions a slot runs or a deployment not in a final
// state deploys. CollectRelease repeats it inside its UPDATE.
const inUse = `SELECT version FROM slots
	UNION SELECT version FROM deployments WHERE state NOT IN ('finalized', 'failed', 'rolled_back')`

// ReleasesInUse returns the versions a slot runs or a deployment not in a
// final state deploys, sorted.
func (s *DB) ReleasesInUse(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM (`+inUse+`) ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list releases in use: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("scan release in use: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CollectRelease marks the release collected in one statement that also
// checks it is not in use: the store has one connection, so no deployment
// is created between the check and the write.
func (s *DB) CollectRelease(ctx context.Context, version string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE releases SET collected_at = COALESCE(collected_at, ?)
		WHERE version = ? AND version NOT IN (`+inUse+`)`, formatTime(at), version)
	if err != nil {
		return fmt.Errorf("collect release %s: %w", version, adaptError(err))
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	if _, err := s.Release(ctx, version); err != nil {
		return fmt.Errorf("collect release: %w", err) // ErrNotFound, or why it could not tell
	}
	return fmt.Errorf("collect release %s: %w: a slot runs it or a deployment of it is not finished", version, store.ErrConflict)
}
