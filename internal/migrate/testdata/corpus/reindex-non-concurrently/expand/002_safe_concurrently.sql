-- +goose NO TRANSACTION
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
