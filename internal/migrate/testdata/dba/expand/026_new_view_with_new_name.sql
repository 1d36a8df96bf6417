-- verdict: pass
-- why: A new view that exposes a column under its new name: an additive step of
--   a rename through views.
CREATE VIEW users_v2 AS SELECT id, email AS email_address, name FROM users;
