-- verdict: pass
-- why: Removing what only the previous release used.
DROP VIEW active_users;
DROP TABLE coupons CASCADE;
