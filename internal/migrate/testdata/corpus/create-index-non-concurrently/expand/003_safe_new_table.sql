CREATE TABLE shipments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    shipped_at timestamptz
);
-- The table is empty: a plain index build is instant.
CREATE INDEX shipments_order_id_idx ON shipments (order_id);
