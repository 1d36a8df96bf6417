-- verdict: refuse
-- why: varchar(200) to varchar(50) scans every row and fails on longer ones;
--   the live release may write longer notes.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(50);
