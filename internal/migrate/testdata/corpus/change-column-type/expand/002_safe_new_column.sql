ALTER TABLE orders ADD COLUMN amount_numeric numeric(12, 2);
