-- verdict: pass
-- why: varchar(200) to varchar(500): no rewrite, no scan; the live release
--   reads and writes it as before.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);
