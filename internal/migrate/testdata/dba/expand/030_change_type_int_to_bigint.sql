-- verdict: refuse
-- why: integer to bigint rewrites the table under ACCESS EXCLUSIVE.
ALTER TABLE coupons ALTER COLUMN percent TYPE bigint;
