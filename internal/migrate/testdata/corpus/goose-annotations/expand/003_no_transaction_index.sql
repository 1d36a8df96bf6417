-- +goose Up
-- +goose NO TRANSACTION
-- bascule:allow create-index-non-concurrently refunds is tiny; kept to show allows inside goose files
CREATE INDEX refunds_order_idx ON refunds (order_id);
CREATE INDEX CONCURRENTLY payments_order_idx ON payments (order_id);

-- +goose Down
DROP INDEX refunds_order_idx;
DROP INDEX CONCURRENTLY payments_order_idx;
