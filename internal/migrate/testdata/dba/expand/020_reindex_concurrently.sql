-- +goose NO TRANSACTION
-- verdict: pass
-- why: REINDEX CONCURRENTLY in a NO TRANSACTION file lets reads and writes go
--   on.
REINDEX INDEX CONCURRENTLY orders_user_idx;
