-- +goose Up
-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY orders_paid_at_idx ON orders (paid_at);

-- +goose Down
DROP INDEX CONCURRENTLY orders_paid_at_idx;
