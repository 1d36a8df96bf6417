-- +goose Up
ALTER TABLE orders ADD COLUMN invoice_id bigint;
ALTER TABLE orders ADD COLUMN invoiced boolean NOT NULL DEFAULT false;
ALTER TABLE orders ADD CONSTRAINT orders_invoice_fk
    FOREIGN KEY (invoice_id) REFERENCES invoices (id) NOT VALID;

-- +goose Down
ALTER TABLE orders DROP COLUMN invoiced;
ALTER TABLE orders DROP COLUMN invoice_id;
