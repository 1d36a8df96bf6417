-- +goose NO TRANSACTION
-- verdict: refuse
-- why: The first index is built, then the second statement fails on a column
--   that does not exist: a NO TRANSACTION file left half applied on
--   production.
CREATE INDEX CONCURRENTLY orders_currency_idx ON orders (currency);
CREATE INDEX CONCURRENTLY orders_channel_idx ON orders (channel);
