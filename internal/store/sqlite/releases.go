package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bascule/bascule/internal/store"
)

// CreateRelease registers r; ErrConflict if the version exists.
func (s *DB) CreateRelease(ctx context.Context, r store.Release) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO releases
		(version, digest, size, format, filename, notes, created_by, created_at, image)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Version, r.Digest, r.Size, r.Format, r.Filename, r.Notes, r.CreatedBy, formatTime(r.CreatedAt), r.Image)
	if err != nil {
		return fmt.Errorf("insert release %s: %w", r.Version, adaptError(err))
	}
	return nil
}

const releaseColumns = `version, digest, size, format, filename, notes, created_by, created_at, hold, image, collected_at`

type scanner interface{ Scan(dest ...any) error }

func scanRelease(row scanner) (store.Release, error) {
	var r store.Release
	var created string
	var collected sql.NullString
	err := row.Scan(&r.Version, &r.Digest, &r.Size, &r.Format, &r.Filename, &r.Notes, &r.CreatedBy, &created, &r.Hold, &r.Image, &collected)
	r.CreatedAt = parseTime(created)
	r.CollectedAt = parseTimePtr(collected)
	return r, err
}

// Release returns one release or ErrNotFound.
func (s *DB) Release(ctx context.Context, version string) (store.Release, error) {
	r, err := scanRelease(s.db.QueryRowContext(ctx, `SELECT `+releaseColumns+` FROM releases WHERE version = ?`, version))
	if err != nil {
		return r, fmt.Errorf("get release %s: %w", version, adaptError(err))
	}
	return r, nil
}

// ListReleases returns all releases, newest first.
func (s *DB) ListReleases(ctx context.Context) ([]store.Release, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+releaseColumns+` FROM releases ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []store.Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, fmt.Errorf("scan release: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// HoldRelease records why the release must not go live automatically again.
func (s *DB) HoldRelease(ctx context.Context, version, reason string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE releases SET hold = ? WHERE version = ?`, reason, version)
	if err != nil {
		return fmt.Errorf("hold release %s: %w", version, adaptError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("hold release %s: %w", version, store.ErrNotFound)
	}
	return nil
}
