-- The column first, the default for new rows next, the backfill in batches by a job.
ALTER TABLE orders ADD COLUMN public_id uuid;
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
-- now() is stable: evaluated once for the whole ALTER, no rewrite.
ALTER TABLE orders ADD COLUMN imported_at timestamptz DEFAULT now();
