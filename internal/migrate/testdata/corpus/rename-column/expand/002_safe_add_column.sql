-- Step 1: the new column; this release writes both and backfills.
ALTER TABLE users ADD COLUMN full_name text;
