-- verdict: refuse
-- why: Builds a unique index under ACCESS EXCLUSIVE: no read or write of
--   coupons for the whole build.
ALTER TABLE coupons ADD CONSTRAINT coupons_percent_key UNIQUE (percent);
