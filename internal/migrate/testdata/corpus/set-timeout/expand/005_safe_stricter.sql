-- Lowering the timeouts is always fine.
SET LOCAL lock_timeout = '100ms';
SET statement_timeout = '30s';
ALTER TABLE users ADD COLUMN avatar_url text;
