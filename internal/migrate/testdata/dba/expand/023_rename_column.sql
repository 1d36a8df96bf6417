-- verdict: refuse
-- why: The live release still uses the old name.
ALTER TABLE users RENAME COLUMN nickname TO display_name;
