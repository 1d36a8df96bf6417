-- verdict: refuse
-- why: An identity column fills every existing row: a rewrite under ACCESS
--   EXCLUSIVE.
ALTER TABLE settings ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
