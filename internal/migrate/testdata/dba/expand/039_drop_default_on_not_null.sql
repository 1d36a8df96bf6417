-- verdict: refuse
-- why: The live release inserts orders without a total and relies on the
--   default: with the default gone and total NOT NULL, those inserts fail.
ALTER TABLE orders ALTER COLUMN total DROP DEFAULT;
