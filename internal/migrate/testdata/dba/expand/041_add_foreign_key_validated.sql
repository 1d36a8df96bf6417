-- verdict: refuse
-- why: A validated foreign key scans orders while holding a lock that stops its
--   writes.
ALTER TABLE orders ADD CONSTRAINT orders_coupon_fk FOREIGN KEY (coupon_code) REFERENCES coupons (code);
