-- verdict: refuse
-- why: gen_random_uuid() is volatile: every row gets its own value, so the
--   table is rewritten under ACCESS EXCLUSIVE.
ALTER TABLE users ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
