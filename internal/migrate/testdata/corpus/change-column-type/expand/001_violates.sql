ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12, 2) USING amount::numeric;
