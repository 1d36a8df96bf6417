-- Make orders.invoice_id required without locking orders for a full scan:
-- a NOT VALID check first (instant), validated in the next file.
ALTER TABLE orders ADD CONSTRAINT orders_invoice_id_present CHECK (invoice_id IS NOT NULL) NOT VALID;
