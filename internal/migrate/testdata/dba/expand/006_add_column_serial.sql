-- verdict: refuse
-- why: serial fills every existing row from a sequence: a rewrite under ACCESS
--   EXCLUSIVE.
ALTER TABLE coupons ADD COLUMN seq serial;
