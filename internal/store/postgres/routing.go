package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
)

var (
	_ store.RoutingTables  = (*DB)(nil)
	_ store.RoutingWatcher = (*DB)(nil)
)

// routingChannel is the channel the routing_table trigger notifies
// (schema 010).
const routingChannel = "bascule_routing_table"

// PutRoutingTable makes t the fleet's table under a generation above the
// stored one, fenced like every leader write (db.write): a deposed
// leader's table is refused and the stored one stays.
func (db *DB) PutRoutingTable(ctx context.Context, t store.RoutingTable) (store.RoutingTable, error) {
	var out store.RoutingTable
	var body string
	err := db.write(ctx, func(q querier) error {
		return q.QueryRow(ctx, `INSERT INTO routing_table AS r (app, generation, body, updated_at)
			VALUES ($1, GREATEST($2::bigint, 1), $3, $4)
			ON CONFLICT (app) DO UPDATE SET generation = GREATEST(excluded.generation, r.generation + 1),
				body = excluded.body, updated_at = excluded.updated_at
			RETURNING generation, body, updated_at`, t.App, t.Generation, string(t.Table), t.UpdatedAt).Scan(&out.Generation, &body, &out.UpdatedAt)
	})
	if err != nil {
		return out, fmt.Errorf("put routing table of %s: %w", t.App, adaptError(err))
	}
	out.App = t.App
	out.Table = []byte(body)
	return out, nil
}

// RoutingTable returns the fleet's table, or store.ErrNotFound.
func (db *DB) RoutingTable(ctx context.Context, app string) (store.RoutingTable, error) {
	out := store.RoutingTable{App: app}
	var body string
	err := db.pool.QueryRow(ctx, `SELECT generation, body, updated_at FROM routing_table WHERE app = $1`, app).Scan(&out.Generation, &body, &out.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("read routing table of %s: %w", app, store.ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("read routing table of %s: %w", app, err)
	}
	out.Table = []byte(body)
	return out, nil
}

// WatchRoutingTable LISTENs on a connection of its own (not one of the
// pool's, which it would hold for good), calls ready once listening, and
// changed with the app at each notification, until ctx ends or the connection breaks.
func (db *DB) WatchRoutingTable(ctx context.Context, ready func(), changed func(app string)) error {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("watch routing table: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+routingChannel); err != nil {
		return fmt.Errorf("watch routing table: listen: %w", err)
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watch routing table: %w", err)
		}
		changed(n.Payload)
	}
}
