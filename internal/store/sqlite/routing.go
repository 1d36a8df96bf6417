package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
)

var _ store.RoutingTables = (*DB)(nil)

// PutRoutingTable makes t the fleet's table under a generation above the
// stored one. SQLite serves one instance: there is no lease to fence.
func (s *DB) PutRoutingTable(ctx context.Context, t store.RoutingTable) (store.RoutingTable, error) {
	var out store.RoutingTable
	var body string
	var at int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO routing_table (app, generation, body, updated_at)
		VALUES (?, max(?, 1), ?, ?)
		ON CONFLICT (app) DO UPDATE SET generation = max(excluded.generation, routing_table.generation + 1),
			body = excluded.body, updated_at = excluded.updated_at
		RETURNING generation, body, updated_at`, t.App, t.Generation, string(t.Table), t.UpdatedAt.UnixMicro()).Scan(&out.Generation, &body, &at)
	if err != nil {
		return out, fmt.Errorf("put routing table of %s: %w", t.App, adaptError(err))
	}
	out.App = t.App
	out.Table, out.UpdatedAt = []byte(body), time.UnixMicro(at).UTC()
	return out, nil
}

// RoutingTable returns the fleet's table, or store.ErrNotFound.
func (s *DB) RoutingTable(ctx context.Context, app string) (store.RoutingTable, error) {
	out := store.RoutingTable{App: app}
	var body string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT generation, body, updated_at FROM routing_table WHERE app = ?`, app).Scan(&out.Generation, &body, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("read routing table of %s: %w", app, store.ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("read routing table of %s: %w", app, err)
	}
	out.Table, out.UpdatedAt = []byte(body), time.UnixMicro(at).UTC()
	return out, nil
}
