-- verdict: refuse
-- why: The live release still reads and writes coupons.
DROP TABLE coupons;
