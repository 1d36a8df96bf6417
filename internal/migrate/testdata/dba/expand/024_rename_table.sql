-- verdict: refuse
-- why: The live release still queries coupons.
ALTER TABLE coupons RENAME TO vouchers;
