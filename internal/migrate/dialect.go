package migrate

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// HistoryTable is the table in the app's database that records every
// applied migration file. Inspection leaves it out of the app's schema: it
// is bascule's, and no release depends on it.
const HistoryTable = "bascule_migrations"

// ErrLocked means another run holds the migration lock of the database and
// did not release it within the wait.
var ErrLocked = errors.New("another migration run holds the migration lock")

// Dialect is all that differs between database engines: what a Migrator
// needs to open, lock, migrate, inspect and shadow a database. The packages
// postgres and sqlite below this one implement it; a MySQL dialect would
// implement the same methods. It is made of the smaller interfaces below,
// each declared for the part of this package that needs only it, so that
// the Runner (and a test double of it) asks for no more than it uses.
type Dialect interface {
	// Name is the driver's name in bascule.yaml: "postgres", "sqlite".
	Name() string
	// Open connects to the database at url (the form database.url takes
	// for this driver).
	Open(ctx context.Context, url string) (*sql.DB, error)
	Session
	Inspector
	Shadower
}

// Session is what the Runner needs of an engine to apply files on an open
// database: its migration lock, its session settings, its errors and its
// history table.
type Session interface {
	Locker
	HistorySQL
	// Reset puts the session of ex (a connection, or a transaction on it)
	// back as it was when it connected, undoing what the files applied
	// before changed (a pg_dump preamble switches lock_timeout off and
	// empties search_path), then bounds the statements that follow by l.
	// The runner calls it before every file and before recording it, so no
	// file's settings outlive it.
	Reset(ctx context.Context, ex Execer, l Limits) error
	// IsLockTimeout reports whether err is a statement that gave up
	// waiting for a lock (and is worth retrying).
	IsLockTimeout(err error) bool
	// ErrorPosition returns the 1-based character position in the
	// statement at which err occurred, or 0 when the engine does not say.
	ErrorPosition(err error) int
}

// Locker takes an engine's migration lock.
type Locker interface {
	// Lock takes the migration lock of db, which two runs migrating the
	// same database (two bascule instances, say) both need. When another
	// run holds it, Lock tells note who, waits at most wait, then fails
	// with an error wrapping ErrLocked. unlock releases the lock.
	Lock(ctx context.Context, db *sql.DB, wait time.Duration, note func(string)) (unlock func() error, err error)
}

// HistorySQL is what reading and writing HistoryTable needs of an engine.
type HistorySQL interface {
	// Placeholder returns the n-th (1-based) bind parameter marker.
	Placeholder(n int) string
	// HistoryDDL creates HistoryTable if it does not exist.
	HistoryDDL() string
}

// Inspector reads a database's schema, for the diff and the shadow gate.
type Inspector interface {
	// Inspect reads the app's schema: tables, views, columns, indexes and
	// constraints, without bascule's own tables.
	Inspect(ctx context.Context, db *sql.DB) (*Schema, error)
}

// Shadower makes the scratch databases the shadow gate rehearses on.
type Shadower interface {
	// Shadow creates a scratch database with db's schema but none of its
	// data, except the rows of HistoryTable, so that the same migrations
	// are pending there as in production.
	Shadow(ctx context.Context, db *sql.DB, opts ShadowOptions) (*Shadow, error)
}

// Limits bound what a migration statement may do to production.
type Limits struct {
	// LockTimeout bounds how long a statement waits for a lock, and so how
	// long production queries queue behind it.
	LockTimeout time.Duration
	// StatementTimeout bounds how long a statement runs, and so how long
	// it holds its locks, even when bascule died and cannot cancel it; 0
	// is no bound. Engines without one (SQLite, whose statements end with
	// bascule's process) ignore it.
	StatementTimeout time.Duration
}

// Execer is a connection or a transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ShadowOptions say where a dialect creates a shadow database.
type ShadowOptions struct {
	// LiveURL is the production database's URL.
	LiveURL string
	// At is migrate.shadow_url: for PostgreSQL a server (any database on
	// it) where bascule may create and drop scratch databases, for SQLite
	// a directory. Empty: the production server, or the system's
	// temporary directory.
	At string
	// Note receives what the copy had to leave out (an object it could
	// not recreate), for the deployment record; nil discards.
	Note func(string)
}

// Shadow is a scratch database created by Shadower.Shadow.
type Shadow struct {
	// URL connects to it, in the same form as the production URL, so a
	// user's migration command can be pointed at it through DATABASE_URL.
	URL string
	// Name says what it is in messages: a database name, a file.
	Name string
	// Drop removes it.
	Drop func(ctx context.Context) error
}
