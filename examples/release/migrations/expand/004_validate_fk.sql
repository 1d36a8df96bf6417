ALTER TABLE orders VALIDATE CONSTRAINT orders_invoice_fk;
