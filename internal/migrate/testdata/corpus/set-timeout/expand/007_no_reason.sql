-- bascule:allow set-timeout
SET lock_timeout = 0;
ALTER TABLE users ADD COLUMN bio text;
