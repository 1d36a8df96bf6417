-- Contract still must not rewrite a big table under an exclusive lock.
ALTER TABLE orders ALTER COLUMN status TYPE text;
