-- Step 1: promise NOT NULL for new rows without scanning the table.
ALTER TABLE users ADD CONSTRAINT users_phone_not_null CHECK (phone IS NOT NULL) NOT VALID;
