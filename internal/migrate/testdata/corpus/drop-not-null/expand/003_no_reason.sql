-- bascule:allow drop-not-null
ALTER TABLE users ALTER COLUMN country DROP NOT NULL;
