-- verdict: refuse
-- why: Fails on a table with rows; and if it did not, every insert of the live
--   release (which does not set it) would.
ALTER TABLE orders ADD COLUMN channel text NOT NULL;
