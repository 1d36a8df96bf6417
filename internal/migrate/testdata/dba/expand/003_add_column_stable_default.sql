-- verdict: pass
-- why: now() is stable: evaluated once for the ALTER, stored like a constant,
--   no rewrite.
ALTER TABLE orders ADD COLUMN updated_at timestamptz DEFAULT now();
