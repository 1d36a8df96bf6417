-- LOCK TABLE's default mode is ACCESS EXCLUSIVE: no read gets through
-- until the backfill below commits.
LOCK TABLE orders;
UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 1 AND 100000;
