package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bascule/bascule/internal/store"
)

// PutSlot records what a color of an app runs.
func (s *DB) PutSlot(ctx context.Context, app string, sl store.Slot) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO slots (app, color, version, deployment_id, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (app, color) DO UPDATE SET version = excluded.version,
			deployment_id = excluded.deployment_id, updated_at = excluded.updated_at`,
		app, sl.Color, sl.Version, sl.DeploymentID, formatTime(sl.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put slot %s: %w", sl.Color, adaptError(err))
	}
	return nil
}

// Slots returns an app's recorded slots keyed by color.
func (s *DB) Slots(ctx context.Context, app string) (map[string]store.Slot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT color, version, deployment_id, updated_at FROM slots WHERE app = ?`, app)
	if err != nil {
		return nil, fmt.Errorf("list slots: %w", err)
	}
	defer rows.Close()
	out := map[string]store.Slot{}
	for rows.Next() {
		var sl store.Slot
		var updated string
		if err := rows.Scan(&sl.Color, &sl.Version, &sl.DeploymentID, &updated); err != nil {
			return nil, fmt.Errorf("scan slot: %w", err)
		}
		sl.UpdatedAt = parseTime(updated)
		out[sl.Color] = sl
	}
	return out, rows.Err()
}

// CreateToken inserts t (whose Hash is already set) and sets its ID.
func (s *DB) CreateToken(ctx context.Context, t *store.Token) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (name, hash, role, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, t.Name, t.Hash, t.Role, formatTime(t.CreatedAt), formatTimePtr(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert token %s: %w", t.Name, adaptError(err))
	}
	t.ID, err = res.LastInsertId()
	return err
}

// TokenByHash returns the token with that hash or ErrNotFound.
func (s *DB) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	var t store.Token
	var created string
	var expires sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT id, name, hash, role, created_at, expires_at FROM tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.Name, &t.Hash, &t.Role, &created, &expires)
	if err != nil {
		return t, fmt.Errorf("get token: %w", adaptError(err))
	}
	t.CreatedAt, t.ExpiresAt = parseTime(created), parseTimePtr(expires)
	return t, nil
}

// CountTokens returns how many tokens exist.
func (s *DB) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}

// AppendAudit appends e and sets its ID.
func (s *DB) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	if e.Source == "" {
		e.Source = store.SourceFrom(ctx)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO audit (at, actor, action, target, outcome, detail, source)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, formatTime(e.At), e.Actor, e.Action, e.Target, e.Outcome, e.Detail, e.Source)
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

// ListAudit returns the newest entries first.
func (s *DB) ListAudit(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor, action, target, outcome, detail, source FROM audit
		ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.Detail, &e.Source); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
