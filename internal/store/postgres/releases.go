package postgres

import (
	"context"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateRelease registers r; ErrConflict if the version exists.
func (db *DB) CreateRelease(ctx context.Context, r store.Release) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO releases
		(version, digest, size, format, filename, notes, created_by, created_at, image)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.Version, r.Digest, r.Size, r.Format, r.Filename, r.Notes, r.CreatedBy, r.CreatedAt, r.Image)
	if err != nil {
		return fmt.Errorf("insert release %s: %w", r.Version, adaptError(err))
	}
	return nil
}

const releaseColumns = `version, digest, size, format, filename, notes, created_by, created_at, hold, image, collected_at`

func scanRelease(row pgx.Row) (store.Release, error) {
	var r store.Release
	err := row.Scan(&r.Version, &r.Digest, &r.Size, &r.Format, &r.Filename, &r.Notes, &r.CreatedBy, &r.CreatedAt, &r.Hold, &r.Image, &r.CollectedAt)
	return r, err
}

// Release returns one release or ErrNotFound.
func (db *DB) Release(ctx context.Context, version string) (store.Release, error) {
	r, err := scanRelease(db.pool.QueryRow(ctx, `SELECT `+releaseColumns+` FROM releases WHERE version = $1`, version))
	if err != nil {
		return r, fmt.Errorf("get release %s: %w", version, adaptError(err))
	}
	return r, nil
}

// ListReleases returns all releases, newest first.
func (db *DB) ListReleases(ctx context.Context) ([]store.Release, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+releaseColumns+` FROM releases ORDER BY created_at DESC, seq DESC`)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Release, error) { return scanRelease(row) })
	if err != nil {
		return nil, fmt.Errorf("scan release: %w", err)
	}
	return out, nil
}

// HoldRelease records why the release must not go live automatically again.
func (db *DB) HoldRelease(ctx context.Context, version, reason string) error {
	var tag pgconn.CommandTag
	err := db.write(ctx, func(q querier) (err error) {
		tag, err = q.Exec(ctx, `UPDATE releases SET hold = $1 WHERE version = $2`, reason, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("hold release %s: %w", version, adaptError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("hold release %s: %w", version, store.ErrNotFound)
	}
	return nil
}
