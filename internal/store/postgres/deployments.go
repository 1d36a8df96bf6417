package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateDeployment inserts d and sets its ID; ErrConflict if the app already
// has an active deployment.
func (db *DB) CreateDeployment(ctx context.Context, d *store.Deployment) error {
	steps, tail, err := encodeDeployment(d)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(q querier) error {
		return q.QueryRow(ctx, `INSERT INTO deployments
			(app, version, color, state, reason, error, log_tail, steps, requested_by, created_at, updated_at, finished_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			d.App, d.Version, d.Color, d.State, d.Reason, d.Error, tail, steps, d.RequestedBy,
			d.CreatedAt, d.UpdatedAt, d.FinishedAt).Scan(&d.ID)
	})
	if err != nil {
		return fmt.Errorf("insert deployment of %s: %w", d.Version, adaptError(err))
	}
	return nil
}

// UpdateDeployment writes d's mutable fields; ErrNotFound for an unknown ID.
func (db *DB) UpdateDeployment(ctx context.Context, d *store.Deployment) error {
	steps, tail, err := encodeDeployment(d)
	if err != nil {
		return err
	}
	var tag pgconn.CommandTag
	err = db.write(ctx, func(q querier) (err error) {
		tag, err = q.Exec(ctx, `UPDATE deployments SET color = $1, state = $2, error = $3, log_tail = $4,
			steps = $5, updated_at = $6, finished_at = $7 WHERE id = $8`,
			d.Color, d.State, d.Error, tail, steps, d.UpdatedAt, d.FinishedAt, d.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("update deployment %d: %w", d.ID, adaptError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update deployment %d: %w", d.ID, store.ErrNotFound)
	}
	return nil
}

// encodeDeployment renders steps and log tail as JSON arrays. Like the
// SQLite store it gives a nil Steps an empty slice; a nil log tail is
// stored as [] and read back as nil.
func encodeDeployment(d *store.Deployment) (steps, tail []byte, err error) {
	if d.Steps == nil {
		d.Steps = []store.Step{}
	}
	if steps, err = json.Marshal(d.Steps); err != nil {
		return nil, nil, fmt.Errorf("encode steps: %w", err)
	}
	if d.LogTail == nil {
		return steps, []byte("[]"), nil
	}
	if tail, err = json.Marshal(d.LogTail); err != nil {
		return nil, nil, fmt.Errorf("encode log tail: %w", err)
	}
	return steps, tail, nil
}

const deploymentColumns = `id, app, version, color, state, reason, error, log_tail, steps, requested_by,
	created_at, updated_at, finished_at`

func scanDeployment(row pgx.Row) (store.Deployment, error) {
	var d store.Deployment
	var tail, steps []byte
	if err := row.Scan(&d.ID, &d.App, &d.Version, &d.Color, &d.State, &d.Reason, &d.Error, &tail, &steps,
		&d.RequestedBy, &d.CreatedAt, &d.UpdatedAt, &d.FinishedAt); err != nil {
		return d, err
	}
	if err := json.Unmarshal(steps, &d.Steps); err != nil {
		return d, fmt.Errorf("decode steps of deployment %d: %w", d.ID, err)
	}
	if err := json.Unmarshal(tail, &d.LogTail); err != nil {
		return d, fmt.Errorf("decode log tail of deployment %d: %w", d.ID, err)
	}
	if len(d.LogTail) == 0 {
		d.LogTail = nil
	}
	return d, nil
}

// Deployment returns one deployment or ErrNotFound.
func (db *DB) Deployment(ctx context.Context, id int64) (store.Deployment, error) {
	d, err := scanDeployment(db.pool.QueryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE id = $1`, id))
	if err != nil {
		return d, fmt.Errorf("get deployment %d: %w", id, adaptError(err))
	}
	return d, nil
}

// ActiveDeployment returns the app's lock-holding deployment or ErrNotFound.
func (db *DB) ActiveDeployment(ctx context.Context, app string) (store.Deployment, error) {
	d, err := scanDeployment(db.pool.QueryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments
		WHERE app = $1 AND state IN ('queued', 'migrating', 'starting', 'verifying')`, app))
	if err != nil {
		return d, fmt.Errorf("get active deployment: %w", adaptError(err))
	}
	return d, nil
}

// ListDeployments returns the newest deployments first, at most limit (100
// when limit is not positive).
func (db *DB) ListDeployments(ctx context.Context, app string, limit int) ([]store.Deployment, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deploymentColumns+` FROM deployments
		WHERE app = $1 ORDER BY id DESC LIMIT $2`, app, limit)
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Deployment, error) { return scanDeployment(row) })
	if err != nil {
		return nil, fmt.Errorf("scan deployment: %w", err)
	}
	return out, nil
}
