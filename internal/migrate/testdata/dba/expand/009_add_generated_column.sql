-- verdict: refuse
-- why: A stored generated column is computed for every row: a rewrite under
--   ACCESS EXCLUSIVE.
ALTER TABLE line_items ADD COLUMN total_cents bigint GENERATED ALWAYS AS ((qty * price * 100)::bigint) STORED;
