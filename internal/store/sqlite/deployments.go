package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/bascule/bascule/internal/store"
)

// CreateDeployment inserts d and sets its ID; ErrConflict if the app already
// has an active deployment.
func (s *DB) CreateDeployment(ctx context.Context, d *store.Deployment) error {
	steps, tail, err := encodeDeployment(d)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO deployments
		(app, version, color, state, reason, error, log_tail, steps, requested_by, created_at, updated_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.App, d.Version, d.Color, d.State, d.Reason, d.Error, tail, steps, d.RequestedBy,
		formatTime(d.CreatedAt), formatTime(d.UpdatedAt), formatTimePtr(d.FinishedAt))
	if err != nil {
		return fmt.Errorf("insert deployment of %s: %w", d.Version, adaptError(err))
	}
	d.ID, err = res.LastInsertId()
	return err
}

// UpdateDeployment writes d's mutable fields.
func (s *DB) UpdateDeployment(ctx context.Context, d *store.Deployment) error {
	steps, tail, err := encodeDeployment(d)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET color = ?, state = ?, error = ?, log_tail = ?,
		steps = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
		d.Color, d.State, d.Error, tail, steps, formatTime(d.UpdatedAt), formatTimePtr(d.FinishedAt), d.ID)
	if err != nil {
		return fmt.Errorf("update deployment %d: %w", d.ID, adaptError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update deployment %d: %w", d.ID, store.ErrNotFound)
	}
	return nil
}

func encodeDeployment(d *store.Deployment) (steps, tail string, err error) {
	if d.Steps == nil {
		d.Steps = []store.Step{}
	}
	b, err := json.Marshal(d.Steps)
	if err != nil {
		return "", "", fmt.Errorf("encode steps: %w", err)
	}
	t, err := json.Marshal(d.LogTail)
	if err != nil {
		return "", "", fmt.Errorf("encode log tail: %w", err)
	}
	return string(b), string(t), nil
}

const deploymentColumns = `id, app, version, color, state, reason, error, log_tail, steps, requested_by,
	created_at, updated_at, finished_at`

func scanDeployment(row scanner) (store.Deployment, error) {
	var d store.Deployment
	var tail, steps, created, updated string
	var finished sql.NullString
	if err := row.Scan(&d.ID, &d.App, &d.Version, &d.Color, &d.State, &d.Reason, &d.Error, &tail, &steps,
		&d.RequestedBy, &created, &updated, &finished); err != nil {
		return d, err
	}
	d.CreatedAt, d.UpdatedAt, d.FinishedAt = parseTime(created), parseTime(updated), parseTimePtr(finished)
	if err := json.Unmarshal([]byte(steps), &d.Steps); err != nil {
		return d, fmt.Errorf("decode steps of deployment %d: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(tail), &d.LogTail); err != nil {
		return d, fmt.Errorf("decode log tail of deployment %d: %w", d.ID, err)
	}
	return d, nil
}

// Deployment returns one deployment or ErrNotFound.
func (s *DB) Deployment(ctx context.Context, id int64) (store.Deployment, error) {
	d, err := scanDeployment(s.db.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE id = ?`, id))
	if err != nil {
		return d, fmt.Errorf("get deployment %d: %w", id, adaptError(err))
	}
	return d, nil
}

// ActiveDeployment returns the app's lock-holding deployment or ErrNotFound.
func (s *DB) ActiveDeployment(ctx context.Context, app string) (store.Deployment, error) {
	d, err := scanDeployment(s.db.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments
		WHERE app = ? AND state IN ('queued', 'migrating', 'starting', 'verifying')`, app))
	if err != nil {
		return d, fmt.Errorf("get active deployment: %w", adaptError(err))
	}
	return d, nil
}

// ListDeployments returns the newest deployments first.
func (s *DB) ListDeployments(ctx context.Context, app string, limit int) ([]store.Deployment, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+deploymentColumns+` FROM deployments
		WHERE app = ? ORDER BY id DESC LIMIT ?`, app, limit)
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	defer rows.Close()
	var out []store.Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("scan deployment: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
