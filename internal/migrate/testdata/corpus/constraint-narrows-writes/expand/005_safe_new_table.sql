CREATE TABLE coupons_v2 (code text PRIMARY KEY, percent integer CHECK (percent BETWEEN 1 AND 100));
ALTER TABLE coupons_v2 ADD CONSTRAINT coupons_v2_code_len CHECK (length(code) <= 20);
