-- Release artifacts' bytes, by content digest (ADR 0016): one row in blobs
-- and the bytes in chunks of chunk_size bytes (the last one shorter), all
-- written in the transaction that inserts the blobs row, so that a blob is
-- either whole or absent. bascule serve on SQLite keeps its artifacts in the
-- data directory and does not fill these tables; they exist so that both
-- stores offer the same interface (storetest runs on both). Not WITHOUT
-- ROWID: SQLite advises against it for rows as large as a chunk.
CREATE TABLE blobs (
	digest     TEXT PRIMARY KEY,
	size       INTEGER NOT NULL CHECK (size >= 0),
	chunk_size INTEGER NOT NULL CHECK (chunk_size > 0),
	created_at TEXT NOT NULL
);

CREATE TABLE blob_chunks (
	digest TEXT NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE,
	idx    INTEGER NOT NULL CHECK (idx >= 0),
	data   BLOB NOT NULL,
	PRIMARY KEY (digest, idx)
);
