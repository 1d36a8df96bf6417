-- +goose NO TRANSACTION
-- Concurrent, so no lock; but the live release may insert duplicates.
CREATE UNIQUE INDEX CONCURRENTLY users_username_key ON users (username);
