-- +goose NO TRANSACTION
-- Reclaims space by writing orders again, under ACCESS EXCLUSIVE.
VACUUM (FULL, ANALYZE) orders;
