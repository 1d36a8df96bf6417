package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
)

var _ store.Blobs = (*DB)(nil)

// PutBlob stores the blob in one transaction: the blobs row first, whose
// primary key makes a second writer of the same digest wait for the first
// to end (then find it stored, or write it if the first failed), then the
// chunks, one INSERT each, a chunk in memory at a time. (COPY was slower:
// pgx cuts each megabyte row into 64 KiB messages through a pipe.)
func (db *DB) PutBlob(ctx context.Context, digest string, size int64, r io.Reader) error {
	split, err := store.NewBlobSplitter(r, digest, size, store.BlobChunk)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO blobs (digest, size, chunk_size) VALUES ($1, $2, $3)
			ON CONFLICT (digest) DO NOTHING`, digest, size, store.BlobChunk)
		if err != nil || tag.RowsAffected() == 0 {
			return err // stored already, by this instance or another
		}
		for split.Next() {
			i, data := split.Chunk()
			if _, err := tx.Exec(ctx, `INSERT INTO blob_chunks (digest, idx, data) VALUES ($1, $2, $3)`, digest, i, data); err != nil {
				return err
			}
		}
		return split.Err()
	})
	if err != nil {
		return fmt.Errorf("put blob %s: %w", digest, err)
	}
	return nil
}

// OpenBlob returns a reader that fetches the chunks one by one, each by its
// own query: a blob is immutable once committed, so the reads need no
// transaction, and no connection is held between two of them.
func (db *DB) OpenBlob(ctx context.Context, digest string) (io.ReadCloser, int64, error) {
	var size int64
	var chunk int
	err := db.pool.QueryRow(ctx, `SELECT size, chunk_size FROM blobs WHERE digest = $1`, digest).Scan(&size, &chunk)
	if err != nil {
		return nil, 0, fmt.Errorf("open blob %s: %w", digest, adaptError(err))
	}
	// One buffer for every chunk: the reader asks for the next chunk only
	// once it has handed out all of the previous one.
	var buf chunkBuf
	r := store.NewBlobReader(digest, size, chunk, func(i int64) ([]byte, error) {
		err := db.pool.QueryRow(ctx, `SELECT data FROM blob_chunks WHERE digest = $1 AND idx = $2`, digest, i).Scan(&buf)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return buf, err
	})
	return io.NopCloser(r), size, nil
}

// chunkBuf receives a chunk into the bytes it already has, where scanning
// into a []byte would allocate a megabyte per chunk.
type chunkBuf []byte

// ScanBytes implements pgtype.BytesScanner.
func (b *chunkBuf) ScanBytes(v []byte) error {
	*b = append((*b)[:0], v...)
	return nil
}

// HasBlob reports whether the blob is stored.
func (db *DB) HasBlob(ctx context.Context, digest string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM blobs WHERE digest = $1)`, digest).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check blob %s: %w", digest, err)
	}
	return ok, nil
}

// DeleteBlob deletes the blob; the foreign key's ON DELETE CASCADE takes
// its chunks in the same statement. Fenced: see store.Blobs.
func (db *DB) DeleteBlob(ctx context.Context, digest string) error {
	err := db.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM blobs WHERE digest = $1`, digest)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	return nil
}
