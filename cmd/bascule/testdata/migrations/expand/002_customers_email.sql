-- +goose Up
ALTER TABLE customers ADD COLUMN email text NOT NULL;
ALTER TABLE customers RENAME COLUMN name TO full_name;

-- +goose Down
ALTER TABLE customers DROP COLUMN email;
