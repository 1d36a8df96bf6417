-- PostgreSQL 12+ uses the valid check and skips the scan.
ALTER TABLE orders ALTER COLUMN invoice_id SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_invoice_id_present;
