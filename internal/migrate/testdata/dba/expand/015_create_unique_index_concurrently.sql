-- +goose NO TRANSACTION
-- verdict: warn
-- why: No lock, but from then on the live release's duplicate emails are
--   refused (23505), and a duplicate among existing rows leaves an INVALID
--   index behind.
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
