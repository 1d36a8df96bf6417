-- bascule:allow concurrently-in-transaction
CREATE INDEX CONCURRENTLY orders_refund_idx ON orders (refund_id);
