RESET lock_timeout;
ALTER TABLE users ADD COLUMN theme text;
