-- +goose NO TRANSACTION
-- verdict: pass
-- why: Bounded batches in a NO TRANSACTION file: each commits on its own and
--   locks a few thousand rows at most.
UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 1 AND 5000 AND currency IS NULL;
UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 5001 AND 10000 AND currency IS NULL;
