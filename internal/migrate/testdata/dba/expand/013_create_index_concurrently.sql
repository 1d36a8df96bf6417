-- +goose NO TRANSACTION
-- verdict: pass
-- why: CONCURRENTLY, alone in a NO TRANSACTION file: writes go on during the
--   build.
CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);
