-- bascule:allow create-index-non-concurrently customers holds forty rows
CREATE INDEX customers_created_idx ON customers (created_at);
ALTER TABLE customers ALTER COLUMN nickname DROP NOT NULL;
