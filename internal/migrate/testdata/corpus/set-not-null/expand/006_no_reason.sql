-- bascule:allow set-not-null
ALTER TABLE orders ALTER COLUMN placed_at SET NOT NULL;
