-- Not a locking rule: contract migrations are not checked for it.
ALTER TABLE invoices ADD COLUMN currency char(3) NOT NULL;
