package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
)

var _ store.Progressives = (*DB)(nil)

// PutProgressive makes p the go-live in progress of p.App, fenced like
// every leader write (db.write): a deposed leader's step is refused.
func (db *DB) PutProgressive(ctx context.Context, p store.Progressive) error {
	err := db.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO progressive_golive (app, state, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (app) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
			p.App, string(p.State), p.UpdatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("put progressive go-live of %s: %w", p.App, adaptError(err))
	}
	return nil
}

// Progressive returns the go-live in progress of app, or store.ErrNotFound.
func (db *DB) Progressive(ctx context.Context, app string) (store.Progressive, error) {
	out := store.Progressive{App: app}
	var state string
	err := db.pool.QueryRow(ctx, `SELECT state, updated_at FROM progressive_golive WHERE app = $1`, app).Scan(&state, &out.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("read progressive go-live of %s: %w", app, store.ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("read progressive go-live of %s: %w", app, err)
	}
	out.State = []byte(state)
	return out, nil
}

// DeleteProgressive removes the go-live in progress of app, if any, fenced
// as PutProgressive.
func (db *DB) DeleteProgressive(ctx context.Context, app string) error {
	err := db.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM progressive_golive WHERE app = $1`, app)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete progressive go-live of %s: %w", app, adaptError(err))
	}
	return nil
}
