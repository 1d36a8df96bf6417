-- +goose NO TRANSACTION
-- verdict: warn
-- why: No blocking lock, but the live release's queries that used the index get
--   slow: an index goes in a contract step, once the release that needed it
--   is gone.
DROP INDEX CONCURRENTLY orders_user_idx;
