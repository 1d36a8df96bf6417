package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"

	"github.com/bascule/bascule/internal/migrate"
)

// lockKey is the advisory lock key of migrations: "bascule" in ASCII.
// Advisory locks are per database, so shadows never contend with
// production.
const lockKey int64 = 0x62617363756c65

// Lock takes the session-level advisory lock on a connection of its own,
// held until unlock. PostgreSQL releases it when bascule's session ends;
// but a session whose bascule was killed mid-statement ends only with its
// statement, which may run on, holding its table locks. So Lock first ends
// the sessions that a dead bascule process on this host left (recognised
// by their application_name; see Open): their transactions roll back and
// their locks go. It needs a session that lasts: point database.url at
// PostgreSQL or at a pooler in session mode, not at one in transaction
// mode.
func (Dialect) Lock(ctx context.Context, db *sql.DB, wait time.Duration, note func(string)) (func() error, error) {
	if note == nil {
		note = func(string) {}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	if err := terminateLeftovers(ctx, conn, note); err != nil {
		conn.Close()
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&ok); err != nil {
		conn.Close()
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	if !ok {
		if err := waitLock(ctx, conn, wait, note); err != nil {
			discard(conn)
			return nil, err
		}
	}
	return func() error { return unlock(conn) }, nil
}

// waitLock blocks on the advisory lock for at most wait.
func waitLock(ctx context.Context, conn *sql.Conn, wait time.Duration, note func(string)) error {
	holder := lockHolder(ctx, conn)
	if note != nil {
		note(fmt.Sprintf("the migration lock is held by %s; waiting up to %s", holder, wait))
	}
	// pg_advisory_lock honours lock_timeout, which bounds the wait without
	// polling.
	if _, err := conn.ExecContext(ctx, "SET lock_timeout = "+strconv.FormatInt(max(wait.Milliseconds(), 1), 10)); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey)
	if (Dialect{}).IsLockTimeout(err) {
		return fmt.Errorf("%w: %s, for more than %s: let it finish, then deploy again", migrate.ErrLocked, holder, wait)
	}
	if err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "RESET lock_timeout"); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

// lockHolder describes the session holding the lock, for messages.
func lockHolder(ctx context.Context, conn *sql.Conn) string {
	var pid int
	var app, client string
	var since time.Time
	err := conn.QueryRowContext(ctx, `SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND ((l.classid::bigint << 32) | l.objid::bigint) = $1
LIMIT 1`, lockKey).Scan(&pid, &app, &client, &since)
	if err != nil {
		return "another session"
	}
	return fmt.Sprintf("pid %d (%q from %s, connected %s)", pid, app, client, since.UTC().Format(time.DateTime))
}

// unlock releases the lock and gives the connection back; if the release
// fails, the connection is closed instead, which releases it too.
func unlock(conn *sql.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
		discard(conn)
		return fmt.Errorf("release migration lock: %w", err)
	}
	return conn.Close()
}

// discard closes conn's underlying connection rather than pooling it, so
// no session state (a lock) survives in the pool: database/sql closes a
// connection whose Raw callback answers ErrBadConn.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
}
