-- verdict: pass
-- why: Since PostgreSQL 11 a constant default is stored in the catalog: no
--   rewrite, and the live release's inserts get the default.
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;
