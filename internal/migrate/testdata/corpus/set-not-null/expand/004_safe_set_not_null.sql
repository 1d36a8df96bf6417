-- Step 3: PostgreSQL 12+ sees the valid check and skips the scan.
ALTER TABLE users ALTER COLUMN phone SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_phone_not_null;
