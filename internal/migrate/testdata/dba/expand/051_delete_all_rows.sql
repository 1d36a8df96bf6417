-- verdict: refuse
-- why: Deletes every coupon the live release still serves: TRUNCATE by another
--   name.
DELETE FROM coupons;
