-- verdict: pass
-- why: The safe way to a volatile default: add the column plain, then set the
--   default for new rows; existing rows are backfilled in batches elsewhere.
ALTER TABLE users ADD COLUMN public_id uuid;
ALTER TABLE users ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
