-- +goose Up
-- +goose StatementBegin
DO $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'order_status') THEN
        CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
    END IF;
END
$body$;
-- +goose StatementEnd
ALTER TABLE orders ADD COLUMN state order_status;  -- a string with a semicolon: ';'
INSERT INTO settings (key, value) VALUES ('banner', 'it''s; fine'), ('motd', E'line\'s; end');

-- +goose Down
ALTER TABLE orders DROP COLUMN state;
DROP TYPE order_status;
