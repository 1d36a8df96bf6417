package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
)

var _ store.Routers = (*DB)(nil)

// PutRouter records r, replacing what r.ID reported before.
func (s *DB) PutRouter(ctx context.Context, r store.Router) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO routers (id, host, listen, installed, drained, colors, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET host = excluded.host, listen = excluded.listen, installed = excluded.installed,
		drained = excluded.drained, colors = excluded.colors, last_seen = excluded.last_seen`,
		r.ID, r.Host, r.Listen, r.Installed, r.Drained, string(r.Colors), r.LastSeen.UnixMicro())
	if err != nil {
		return fmt.Errorf("put router %s: %w", r.ID, adaptError(err))
	}
	return nil
}

// ListRouters returns every registered router ordered by ID.
func (s *DB) ListRouters(ctx context.Context) ([]store.Router, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, host, listen, installed, drained, colors, last_seen FROM routers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list routers: %w", err)
	}
	defer rows.Close()
	var out []store.Router
	for rows.Next() {
		var r store.Router
		var colors string
		var seen int64
		if err := rows.Scan(&r.ID, &r.Host, &r.Listen, &r.Installed, &r.Drained, &colors, &seen); err != nil {
			return nil, fmt.Errorf("scan router: %w", err)
		}
		r.Colors, r.LastSeen = []byte(colors), time.UnixMicro(seen).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteRouter forgets a router, or returns ErrNotFound.
func (s *DB) DeleteRouter(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM routers WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete router %s: %w", id, adaptError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete router %s: %w", id, store.ErrNotFound)
	}
	return nil
}
