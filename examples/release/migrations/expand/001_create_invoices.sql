-- +goose Up
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    number text NOT NULL,
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    issued_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX invoices_number_key ON invoices (number);
CREATE INDEX invoices_order_id_idx ON invoices (order_id);

-- +goose Down
DROP TABLE invoices;
