-- verdict: refuse
-- why: Deletes every row the live release serves, under ACCESS EXCLUSIVE; no
--   rollback brings them back.
TRUNCATE coupons;
