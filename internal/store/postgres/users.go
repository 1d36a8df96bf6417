package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateUser inserts u and sets its ID; ErrConflict if the name is taken.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO users (name, role, password_hash, created_at, disabled_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, u.Name, u.Role, u.PasswordHash, u.CreatedAt, u.DisabledAt).Scan(&u.ID)
	if err != nil {
		return fmt.Errorf("insert user %s: %w", u.Name, adaptError(err))
	}
	return nil
}

const userColumns = `id, name, role, password_hash, created_at, disabled_at`

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.CreatedAt, &u.DisabledAt)
	return u, err
}

// User returns the user with that name or ErrNotFound.
func (db *DB) User(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if err != nil {
		return u, fmt.Errorf("get user %s: %w", name, adaptError(err))
	}
	return u, nil
}

// ListUsers returns all users ordered by name, byte-wise as SQLite orders
// them, whatever the database's collation.
func (db *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.User, error) { return scanUser(row) })
	if err != nil {
		return nil, fmt.Errorf("scan user: %w", err)
	}
	return out, nil
}

// UpdateUser writes u's role, password hash and disabled time.
func (db *DB) UpdateUser(ctx context.Context, u store.User) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET role = $1, password_hash = $2, disabled_at = $3 WHERE name = $4`,
		u.Role, u.PasswordHash, u.DisabledAt, u.Name)
	return affectedOne(tag, err, "update user "+u.Name)
}

// DeleteUser deletes the user; their sessions go with them (ON DELETE
// CASCADE).
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM users WHERE name = $1`, name)
	return affectedOne(tag, err, "delete user "+name)
}

// affectedOne turns "no row matched" into ErrNotFound.
func affectedOne(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, adaptError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// CreateSession inserts sess; ErrConflict if its hash exists.
func (db *DB) CreateSession(ctx context.Context, sess store.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_name, csrf_token, created_at, last_seen, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, sess.IDHash, sess.User, sess.CSRFToken, sess.CreatedAt, sess.LastSeen, sess.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert session of %s: %w", sess.User, adaptError(err))
	}
	return nil
}

// Session returns the session with that ID hash or ErrNotFound.
func (db *DB) Session(ctx context.Context, idHash string) (store.Session, error) {
	var s store.Session
	err := db.pool.QueryRow(ctx, `SELECT id_hash, user_name, csrf_token, created_at, last_seen, expires_at
		FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.User, &s.CSRFToken, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt)
	if err != nil {
		return s, fmt.Errorf("get session: %w", adaptError(err))
	}
	return s, nil
}

// TouchSession sets the session's last use and expiry.
func (db *DB) TouchSession(ctx context.Context, idHash string, lastSeen, expiresAt time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE id_hash = $3`,
		lastSeen, expiresAt, idHash)
	return affectedOne(tag, err, "touch session")
}

// DeleteSession deletes the session, if it exists.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions deletes every session of the user.
func (db *DB) DeleteUserSessions(ctx context.Context, user string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE user_name = $1`, user); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", user, err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions that expire at or before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}
