-- +goose Up
-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_invoice_id_idx ON orders (invoice_id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS orders_invoice_id_idx;
