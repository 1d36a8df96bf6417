ALTER TABLE orders ADD COLUMN memo text;
