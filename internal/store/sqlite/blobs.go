package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/bascule/bascule/internal/store"
)

var _ store.Blobs = (*DB)(nil)

// PutBlob stores the blob in one transaction, a chunk in memory at a time.
// The store has one connection: while a blob is written, other writes
// wait (see ADR 0016 for why bascule serve does not fill it on SQLite).
func (s *DB) PutBlob(ctx context.Context, digest string, size int64, r io.Reader) error {
	split, err := store.NewBlobSplitter(r, digest, size, store.BlobChunk)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	if err := s.putBlob(ctx, digest, size, split); err != nil {
		return fmt.Errorf("put blob %s: %w", digest, err)
	}
	return nil
}

func (s *DB) putBlob(ctx context.Context, digest string, size int64, split *store.BlobSplitter) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO blobs (digest, size, chunk_size, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (digest) DO NOTHING`, digest, size, store.BlobChunk, now())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // stored already
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO blob_chunks (digest, idx, data) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for split.Next() {
		i, data := split.Chunk()
		if _, err := ins.ExecContext(ctx, digest, i, data); err != nil {
			return err
		}
	}
	if err := split.Err(); err != nil {
		return err
	}
	return tx.Commit()
}

// OpenBlob returns a reader that fetches the chunks one by one, each by its
// own query, so that other users of the one connection get their turn
// between two chunks.
func (s *DB) OpenBlob(ctx context.Context, digest string) (io.ReadCloser, int64, error) {
	var size int64
	var chunk int
	err := s.db.QueryRowContext(ctx, `SELECT size, chunk_size FROM blobs WHERE digest = ?`, digest).Scan(&size, &chunk)
	if err != nil {
		return nil, 0, fmt.Errorf("open blob %s: %w", digest, adaptError(err))
	}
	r := store.NewBlobReader(digest, size, chunk, func(i int64) ([]byte, error) {
		var data []byte
		err := s.db.QueryRowContext(ctx, `SELECT data FROM blob_chunks WHERE digest = ? AND idx = ?`, digest, i).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return data, err
	})
	return io.NopCloser(r), size, nil
}

// HasBlob reports whether the blob is stored.
func (s *DB) HasBlob(ctx context.Context, digest string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM blobs WHERE digest = ?`, digest).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check blob %s: %w", digest, err)
	}
	return n > 0, nil
}

// DeleteBlob deletes the blob and its chunks in one transaction. The store
// has one instance: there is nothing to fence.
func (s *DB) DeleteBlob(ctx context.Context, digest string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	defer tx.Rollback()
	// The chunks first, by name: the foreign key's cascade works only
	// where foreign keys are enforced.
	if _, err := tx.ExecContext(ctx, `DELETE FROM blob_chunks WHERE digest = ?`, digest); err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE digest = ?`, digest); err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	return nil
}
