package postgres

import (
	"context"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
)

var _ store.Routers = (*DB)(nil)

// PutRouter records r, replacing what r.ID reported before.
func (db *DB) PutRouter(ctx context.Context, r store.Router) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO routers (id, host, listen, installed, drained, colors, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET host = excluded.host, listen = excluded.listen, installed = excluded.installed,
		drained = excluded.drained, colors = excluded.colors, last_seen = excluded.last_seen`,
		r.ID, r.Host, r.Listen, r.Installed, r.Drained, string(r.Colors), r.LastSeen)
	if err != nil {
		return fmt.Errorf("put router %s: %w", r.ID, adaptError(err))
	}
	return nil
}

// ListRouters returns every registered router ordered by ID.
func (db *DB) ListRouters(ctx context.Context) ([]store.Router, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, host, listen, installed, drained, colors, last_seen FROM routers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list routers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Router, error) {
		var r store.Router
		var colors string
		err := row.Scan(&r.ID, &r.Host, &r.Listen, &r.Installed, &r.Drained, &colors, &r.LastSeen)
		r.Colors, r.LastSeen = []byte(colors), r.LastSeen.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("scan router: %w", err)
	}
	return out, nil
}

// DeleteRouter forgets a router, or returns ErrNotFound.
func (db *DB) DeleteRouter(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM routers WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete router %s: %w", id, adaptError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete router %s: %w", id, store.ErrNotFound)
	}
	return nil
}
