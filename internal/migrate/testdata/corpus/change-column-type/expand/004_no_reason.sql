-- bascule:allow change-column-type
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;
