package postgres

import (
	"context"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
)

// PutSlot records what a color of an app runs.
func (db *DB) PutSlot(ctx context.Context, app string, sl store.Slot) error {
	err := db.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO slots (app, color, version, deployment_id, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (app, color) DO UPDATE SET version = excluded.version,
				deployment_id = excluded.deployment_id, updated_at = excluded.updated_at`,
			app, sl.Color, sl.Version, sl.DeploymentID, sl.UpdatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("put slot %s: %w", sl.Color, adaptError(err))
	}
	return nil
}

// Slots returns an app's recorded slots keyed by color.
func (db *DB) Slots(ctx context.Context, app string) (map[string]store.Slot, error) {
	rows, err := db.pool.Query(ctx, `SELECT color, version, deployment_id, updated_at FROM slots WHERE app = $1`, app)
	if err != nil {
		return nil, fmt.Errorf("list slots: %w", err)
	}
	defer rows.Close()
	out := map[string]store.Slot{}
	for rows.Next() {
		var sl store.Slot
		if err := rows.Scan(&sl.Color, &sl.Version, &sl.DeploymentID, &sl.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan slot: %w", err)
		}
		out[sl.Color] = sl
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list slots: %w", err)
	}
	return out, nil
}

// CreateToken inserts t (whose Hash is already set) and sets its ID.
func (db *DB) CreateToken(ctx context.Context, t *store.Token) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO tokens (name, hash, role, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, t.Name, t.Hash, t.Role, t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("insert token %s: %w", t.Name, adaptError(err))
	}
	return nil
}

const tokenColumns = `id, name, hash, role, created_at, expires_at`

func scanToken(row pgx.Row) (store.Token, error) {
	var t store.Token
	err := row.Scan(&t.ID, &t.Name, &t.Hash, &t.Role, &t.CreatedAt, &t.ExpiresAt)
	return t, err
}

// TokenByHash returns the token with that hash or ErrNotFound.
func (db *DB) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if err != nil {
		return t, fmt.Errorf("get token: %w", adaptError(err))
	}
	return t, nil
}

// CountTokens returns how many tokens exist.
func (db *DB) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM tokens`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}

// ListTokens returns all tokens, oldest first.
func (db *DB) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Token, error) { return scanToken(row) })
	if err != nil {
		return nil, fmt.Errorf("scan token: %w", err)
	}
	return out, nil
}

// DeleteToken revokes a token by ID, or returns ErrNotFound.
func (db *DB) DeleteToken(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM tokens WHERE id = $1`, id)
	return affectedOne(tag, err, fmt.Sprintf("delete token %d", id))
}

// AppendAudit appends e and sets its ID.
func (db *DB) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	if e.Source == "" {
		e.Source = store.SourceFrom(ctx)
	}
	err := db.write(ctx, func(q querier) error {
		return q.QueryRow(ctx, `INSERT INTO audit (at, actor, action, target, outcome, detail, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, e.At, e.Actor, e.Action, e.Target, e.Outcome, e.Detail, e.Source).Scan(&e.ID)
	})
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit returns the newest entries first, at most limit (100 when limit
// is not positive).
func (db *DB) ListAudit(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT id, at, actor, action, target, outcome, detail, source FROM audit
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.Detail, &e.Source)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("scan audit: %w", err)
	}
	return out, nil
}
