SET lock_timeout = '10s';
ALTER TABLE users ADD COLUMN locale text;
