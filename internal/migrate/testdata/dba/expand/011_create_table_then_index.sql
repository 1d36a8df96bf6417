-- verdict: pass
-- why: An index on a table created in the same release is built on an empty
--   table: instant.
CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint NOT NULL);
CREATE INDEX refunds_order_idx ON refunds (order_id);
