ALTER TABLE customers DROP COLUMN legacy_note;
CREATE INDEX customers_email_idx ON customers (email);
