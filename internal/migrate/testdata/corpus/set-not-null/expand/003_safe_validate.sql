-- Step 2, its own transaction: the scan lets reads and writes through.
ALTER TABLE users VALIDATE CONSTRAINT users_phone_not_null;
