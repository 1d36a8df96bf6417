package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// sortableLayout is a fixed-width UTC layout: unlike RFC3339Nano, which
// trims trailing zeros, its strings sort in time order, which the expiry
// sweep relies on. parseTime reads it.
const sortableLayout = "2006-01-02T15:04:05.000000000Z07:00"

func sortableTime(t time.Time) string { return t.UTC().Format(sortableLayout) }

// CreateUser inserts u and sets its ID; ErrConflict if the name is taken.
func (s *DB) CreateUser(ctx context.Context, u *store.User) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, created_at, disabled_at)
		VALUES (?, ?, ?, ?, ?)`, u.Name, u.Role, u.PasswordHash, formatTime(u.CreatedAt), formatTimePtr(u.DisabledAt))
	if err != nil {
		return fmt.Errorf("insert user %s: %w", u.Name, adaptError(err))
	}
	u.ID, err = res.LastInsertId()
	return err
}

const userColumns = `id, name, role, password_hash, created_at, disabled_at`

func scanUser(row scanner) (store.User, error) {
	var u store.User
	var created string
	var disabled sql.NullString
	err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &created, &disabled)
	u.CreatedAt, u.DisabledAt = parseTime(created), parseTimePtr(disabled)
	return u, err
}

// User returns the user with that name or ErrNotFound.
func (s *DB) User(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if err != nil {
		return u, fmt.Errorf("get user %s: %w", name, adaptError(err))
	}
	return u, nil
}

// ListUsers returns all users ordered by name.
func (s *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser writes u's role, password hash and disabled time.
func (s *DB) UpdateUser(ctx context.Context, u store.User) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET role = ?, password_hash = ?, disabled_at = ? WHERE name = ?`,
		u.Role, u.PasswordHash, formatTimePtr(u.DisabledAt), u.Name)
	return affectedOne(res, err, "update user "+u.Name)
}

// DeleteUser deletes the user; their sessions go with them (ON DELETE
// CASCADE).
func (s *DB) DeleteUser(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	return affectedOne(res, err, "delete user "+name)
}

// affectedOne turns "no row matched" into ErrNotFound.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, adaptError(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// CreateSession inserts sess; ErrConflict if its hash exists.
func (s *DB) CreateSession(ctx context.Context, sess store.Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_name, csrf_token, created_at, last_seen, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, sess.IDHash, sess.User, sess.CSRFToken,
		sortableTime(sess.CreatedAt), sortableTime(sess.LastSeen), sortableTime(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert session of %s: %w", sess.User, adaptError(err))
	}
	return nil
}

// Session returns the session with that ID hash or ErrNotFound.
func (s *DB) Session(ctx context.Context, idHash string) (store.Session, error) {
	var sess store.Session
	var created, seen, expires string
	err := s.db.QueryRowContext(ctx, `SELECT id_hash, user_name, csrf_token, created_at, last_seen, expires_at
		FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&sess.IDHash, &sess.User, &sess.CSRFToken, &created, &seen, &expires)
	if err != nil {
		return sess, fmt.Errorf("get session: %w", adaptError(err))
	}
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = parseTime(created), parseTime(seen), parseTime(expires)
	return sess, nil
}

// TouchSession sets the session's last use and expiry.
func (s *DB) TouchSession(ctx context.Context, idHash string, lastSeen, expiresAt time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id_hash = ?`,
		sortableTime(lastSeen), sortableTime(expiresAt), idHash)
	return affectedOne(res, err, "touch session")
}

// DeleteSession deletes the session, if it exists.
func (s *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions deletes every session of the user.
func (s *DB) DeleteUserSessions(ctx context.Context, user string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_name = ?`, user); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", user, err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions that expire at or before now.
func (s *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, sortableTime(now)); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}

// ListTokens returns all tokens, oldest first.
func (s *DB) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, hash, role, created_at, expires_at FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		var t store.Token
		var created string
		var expires sql.NullString
		if err := rows.Scan(&t.ID, &t.Name, &t.Hash, &t.Role, &created, &expires); err != nil {
			return nil, fmt.Errorf("scan token: %w", err)
		}
		t.CreatedAt, t.ExpiresAt = parseTime(created), parseTimePtr(expires)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken revokes a token by ID, or returns ErrNotFound.
func (s *DB) DeleteToken(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id)
	return affectedOne(res, err, fmt.Sprintf("delete token %d", id))
}
