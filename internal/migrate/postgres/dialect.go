// Package postgres is the PostgreSQL dialect of bascule's migrations: it
// connects through pgx, takes the migration lock with an advisory lock,
// bounds lock waits with lock_timeout, reads the schema from pg_catalog and
// builds shadow databases on the same server (or at migrate.shadow_url).
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Dialect is PostgreSQL. Its zero value is ready to use.
type Dialect struct{}

var _ migrate.Dialect = Dialect{}

// SQLSTATE codes the dialect tells apart.
const (
	codeLockNotAvailable = "55P03" // lock_timeout expired
)

// Name is "postgres".
func (Dialect) Name() string { return "postgres" }

// Open connects to url, a postgres:// URL or a "host=… dbname=…" string.
// Connections say "bascule migrate pid=… run=… host=…" in
// pg_stat_activity unless the URL names an application itself: that is how
// a restarted bascule recognises the sessions of one that died (see Lock).
func (Dialect) Open(ctx context.Context, url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message already hides the password.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = appName()
	}
	db := stdlib.OpenDB(*cfg)
	// The lock, the connection applying files and the inspection: a few
	// connections are all a run needs, and a migration must not crowd out
	// the app.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database %s on %s: %w", cfg.Database, cfg.Host, err)
	}
	return db, nil
}

// Reset runs RESET ALL, which brings every setting back to its value at
// connect time (the URL's options included), then sets lock_timeout and
// statement_timeout. In a transaction the reset lasts beyond it, as SET
// does: the next file starts from it too.
func (Dialect) Reset(ctx context.Context, ex migrate.Execer, l migrate.Limits) error {
	q := fmt.Sprintf("RESET ALL; SET lock_timeout = %d; SET statement_timeout = %d",
		max(l.LockTimeout.Milliseconds(), 1), max(l.StatementTimeout.Milliseconds(), 0))
	if _, err := ex.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("reset the migration session: %w", err)
	}
	return nil
}

// IsLockTimeout reports SQLSTATE 55P03, lock_not_available.
func (Dialect) IsLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeLockNotAvailable
}

// ErrorPosition returns the position PostgreSQL reports for a syntax or
// semantic error.
func (Dialect) ErrorPosition(err error) int {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return int(pe.Position)
	}
	return 0
}

// Placeholder returns "$n".
func (Dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// HistoryDDL creates bascule_migrations.
func (Dialect) HistoryDDL() string {
	return `CREATE TABLE IF NOT EXISTS ` + migrate.HistoryTable + ` (
	phase      text NOT NULL,
	version    bigint NOT NULL,
	name       text NOT NULL,
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL,
	release    text NOT NULL,
	PRIMARY KEY (phase, version)
)`
}
