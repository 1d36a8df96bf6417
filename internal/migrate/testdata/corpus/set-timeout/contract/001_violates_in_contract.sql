-- Contract files run while the new release serves: the same queueing.
SET lock_timeout = 0;
ALTER TABLE users DROP COLUMN legacy_flags;
