package sqlite

import (
	"context"
	"fmt"

	"github.com/bascule/bascule/internal/store"
)

var _ store.Flags = (*DB)(nil)

const flagColumns = `version, doc, actor, summary, created_at`

// LatestFlags returns the newest flag version, or store.ErrNotFound.
func (s *DB) LatestFlags(ctx context.Context) (store.FlagVersion, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+flagColumns+` FROM flag_versions ORDER BY version DESC LIMIT 1`)
	v, err := scanFlagVersion(row.Scan)
	if err != nil {
		return v, fmt.Errorf("get latest flags: %w", adaptError(err))
	}
	return v, nil
}

// PutFlags writes v after expectVersion, or returns store.ErrConflict when
// another version came first. The check and the insert share a transaction
// (BEGIN IMMEDIATE: see Open), and the primary key backs them up.
func (s *DB) PutFlags(ctx context.Context, expectVersion int64, v store.FlagVersion) error {
	if v.Version != expectVersion+1 {
		return fmt.Errorf("put flags: version %d cannot follow %d", v.Version, expectVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put flags: %w", err)
	}
	defer tx.Rollback()
	var latest int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM flag_versions`).Scan(&latest); err != nil {
		return fmt.Errorf("put flags: %w", err)
	}
	if latest != expectVersion {
		return fmt.Errorf("put flags version %d: latest is %d, not %d: %w", v.Version, latest, expectVersion, store.ErrConflict)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO flag_versions (`+flagColumns+`) VALUES (?, ?, ?, ?, ?)`,
		v.Version, string(v.Doc), v.Actor, v.Summary, formatTime(v.CreatedAt))
	if err != nil {
		return fmt.Errorf("put flags version %d: %w", v.Version, adaptError(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put flags version %d: %w", v.Version, adaptError(err))
	}
	return nil
}

// FlagHistory returns the versions whose summary contains mention, newest
// first. instr, unlike LIKE, treats '_' and '%' in flag keys literally.
func (s *DB) FlagHistory(ctx context.Context, mention string, limit int) ([]store.FlagVersion, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+flagColumns+` FROM flag_versions
		WHERE ? = '' OR instr(summary, ?) > 0 ORDER BY version DESC LIMIT ?`, mention, mention, limit)
	if err != nil {
		return nil, fmt.Errorf("list flag history: %w", err)
	}
	defer rows.Close()
	var out []store.FlagVersion
	for rows.Next() {
		v, err := scanFlagVersion(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("scan flag version: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanFlagVersion(scan func(dest ...any) error) (store.FlagVersion, error) {
	var v store.FlagVersion
	var doc, created string
	if err := scan(&v.Version, &doc, &v.Actor, &v.Summary, &created); err != nil {
		return v, err
	}
	v.Doc, v.CreatedAt = []byte(doc), parseTime(created)
	return v, nil
}
