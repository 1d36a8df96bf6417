// Package sqlite is the SQLite dialect of bascule's migrations (through
// modernc.org/sqlite, no cgo): a flock beside the database as the
// migration lock, the busy
// timeout as the lock timeout, the schema read from sqlite_master and the
// table pragmas, and shadows that are schema-only copies in a temporary
// file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/bascule/bascule/internal/migrate"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is SQLite. Its zero value is ready to use.
type Dialect struct{}

var _ migrate.Dialect = Dialect{}

// Name is "sqlite".
func (Dialect) Name() string { return "sqlite" }

// Path returns the file a database.url names: a plain path, "file:PATH"
// (with optional "?query"), or "sqlite:PATH" / "sqlite://PATH".
func Path(dbURL string) string {
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if rest, ok := strings.CutPrefix(dbURL, prefix); ok {
			p, _, _ := strings.Cut(rest, "?")
			return p
		}
	}
	return dbURL
}

// sameForm returns path in the form of dbURL, so that a user's migration
// command gets DATABASE_URL for the shadow as it gets it for production.
func sameForm(dbURL, path string) string {
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(dbURL, prefix) {
			return prefix + path
		}
	}
	return path
}

// Open opens the database file dbURL names, creating it if missing (a
// first release's expand migrations may well create the app's database).
// Foreign keys are enforced, as an app would have them, and transactions
// begin IMMEDIATE so that a migration takes the write lock at once.
func (Dialect) Open(ctx context.Context, dbURL string) (*sql.DB, error) {
	p := Path(dbURL)
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+p+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", p, err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", p, err)
	}
	return db, nil
}

// Reset sets the busy timeout, SQLite's lock timeout. SQLite has no
// statement timeout, and needs none to survive a crash of bascule: its
// statements run in bascule's process and end with it.
func (Dialect) Reset(ctx context.Context, ex migrate.Execer, l migrate.Limits) error {
	ms := max(l.LockTimeout.Milliseconds(), 1)
	if _, err := ex.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(ms, 10)); err != nil {
		return fmt.Errorf("reset the migration session: %w", err)
	}
	return nil
}

// IsLockTimeout reports SQLITE_BUSY and SQLITE_LOCKED: another connection
// kept the database (or a table) locked past the busy timeout.
func (Dialect) IsLockTimeout(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// ErrorPosition is always 0: SQLite does not say where in a statement an
// error is.
func (Dialect) ErrorPosition(error) int { return 0 }

// Placeholder returns "?".
func (Dialect) Placeholder(int) string { return "?" }

// HistoryDDL creates bascule_migrations; applied_at is RFC 3339 text.
func (Dialect) HistoryDDL() string {
	return `CREATE TABLE IF NOT EXISTS ` + migrate.HistoryTable + ` (
	phase      TEXT NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	checksum   TEXT NOT NULL,
	applied_at TEXT NOT NULL,
	release    TEXT NOT NULL,
	PRIMARY KEY (phase, version)
)`
}
