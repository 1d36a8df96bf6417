ALTER TABLE invoices ADD CONSTRAINT invoices_total_check CHECK (total >= 0);
