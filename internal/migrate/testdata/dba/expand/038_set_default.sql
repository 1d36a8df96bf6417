-- verdict: pass
-- why: A new default changes no row and no existing insert.
ALTER TABLE users ALTER COLUMN country SET DEFAULT 'FR';
