-- Contract: only the previous release read legacy_login.
ALTER TABLE users DROP COLUMN legacy_login;
