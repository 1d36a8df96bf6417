-- +goose Up
ALTER TABLE orders DROP COLUMN legacy_invoice_pdf;
DROP TABLE legacy_invoices;

-- +goose Down
-- Nothing: the data is gone.
