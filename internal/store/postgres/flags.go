package postgres

import (
	"context"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
)

const flagColumns = `version, doc, actor, summary, created_at`

func scanFlagVersion(row pgx.Row) (store.FlagVersion, error) {
	var v store.FlagVersion
	var doc string
	err := row.Scan(&v.Version, &doc, &v.Actor, &v.Summary, &v.CreatedAt)
	v.Doc = []byte(doc)
	return v, err
}

// LatestFlags returns the newest flag version, or store.ErrNotFound.
func (db *DB) LatestFlags(ctx context.Context) (store.FlagVersion, error) {
	v, err := scanFlagVersion(db.pool.QueryRow(ctx, `SELECT `+flagColumns+` FROM flag_versions ORDER BY version DESC LIMIT 1`))
	if err != nil {
		return v, fmt.Errorf("get latest flags: %w", adaptError(err))
	}
	return v, nil
}

// PutFlags writes v after expectVersion, or returns store.ErrConflict when
// another version came first. One statement checks and inserts: a writer
// that read an older latest version inserts nothing, and of two writers
// racing from the same version the primary key refuses the second.
func (db *DB) PutFlags(ctx context.Context, expectVersion int64, v store.FlagVersion) error {
	if v.Version != expectVersion+1 {
		return fmt.Errorf("put flags: version %d cannot follow %d", v.Version, expectVersion)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO flag_versions (`+flagColumns+`)
		SELECT $1, $2, $3, $4, $5
		WHERE (SELECT coalesce(max(version), 0) FROM flag_versions) = $6`,
		v.Version, string(v.Doc), v.Actor, v.Summary, v.CreatedAt, expectVersion)
	if err != nil {
		return fmt.Errorf("put flags version %d: %w", v.Version, adaptError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("put flags version %d: latest is not %d: %w", v.Version, expectVersion, store.ErrConflict)
	}
	return nil
}

// FlagHistory returns the versions whose summary contains mention, newest
// first, at most limit (100 when limit is not positive). strpos, unlike
// LIKE, treats '_' and '%' in flag keys literally.
func (db *DB) FlagHistory(ctx context.Context, mention string, limit int) ([]store.FlagVersion, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+flagColumns+` FROM flag_versions
		WHERE $1 = '' OR strpos(summary, $1) > 0 ORDER BY version DESC LIMIT $2`, mention, limit)
	if err != nil {
		return nil, fmt.Errorf("list flag history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.FlagVersion, error) { return scanFlagVersion(row) })
	if err != nil {
		return nil, fmt.Errorf("scan flag version: %w", err)
	}
	return out, nil
}
