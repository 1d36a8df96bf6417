package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
)

var _ store.Progressives = (*DB)(nil)

// PutProgressive makes p the go-live in progress of p.App. SQLite serves
// one instance: there is no lease to fence.
func (s *DB) PutProgressive(ctx context.Context, p store.Progressive) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO progressive_golive (app, state, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (app) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
		p.App, string(p.State), p.UpdatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("put progressive go-live of %s: %w", p.App, adaptError(err))
	}
	return nil
}

// Progressive returns the go-live in progress of app, or store.ErrNotFound.
func (s *DB) Progressive(ctx context.Context, app string) (store.Progressive, error) {
	out := store.Progressive{App: app}
	var state string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT state, updated_at FROM progressive_golive WHERE app = ?`, app).Scan(&state, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("read progressive go-live of %s: %w", app, store.ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("read progressive go-live of %s: %w", app, err)
	}
	out.State, out.UpdatedAt = []byte(state), time.UnixMicro(at).UTC()
	return out, nil
}

// DeleteProgressive removes the go-live in progress of app, if any.
func (s *DB) DeleteProgressive(ctx context.Context, app string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM progressive_golive WHERE app = ?`, app); err != nil {
		return fmt.Errorf("delete progressive go-live of %s: %w", app, adaptError(err))
	}
	return nil
}
