// Package postgres implements store.Store on PostgreSQL through pgx, for
// running several bascule instances on one database.
//
// The schema is embedded and brought up to date by Open, one transaction per
// file, under an advisory lock so that instances starting together do not
// race. The rules that matter under concurrency live in the schema, not in
// Go: a partial unique index allows one active deployment per app, and a
// trigger makes the audit log append only.
//
// Behaviour matches the SQLite store (both run storetest's suite), with one
// difference: times are kept to the microsecond, PostgreSQL's precision,
// where SQLite keeps nanoseconds.
package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a store.Store on a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string, with pool settings such as pool_max_conns) and brings
// its schema up to date.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// Times come back in UTC, as the SQLite store returns them, rather
		// than in the host's zone.
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes every connection, waiting for the ones in use to be
// returned.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
