-- Release artifacts' bytes, by content digest, so that every instance
-- sharing the store can deploy a release whichever instance received it
-- (ADR 0016). A blob is one row in blobs and its bytes in chunks of
-- chunk_size bytes (the last one shorter), all written in the transaction
-- that inserts the blobs row: a blob is either whole or absent.
CREATE TABLE blobs (
	digest     text PRIMARY KEY,
	size       bigint NOT NULL CHECK (size >= 0),
	chunk_size integer NOT NULL CHECK (chunk_size > 0),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE blob_chunks (
	digest text NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE,
	idx    integer NOT NULL CHECK (idx >= 0),
	data   bytea NOT NULL,
	PRIMARY KEY (digest, idx)
);

-- Artifacts are compressed already (tar.gz): PostgreSQL would try to
-- compress each chunk again for nothing. EXTERNAL keeps them out of line,
-- uncompressed.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
