-- verdict: refuse
-- why: SET UNLOGGED rewrites coupons under ACCESS EXCLUSIVE, and an unlogged
--   table is emptied by a crash.
ALTER TABLE coupons SET UNLOGGED;
