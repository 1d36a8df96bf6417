-- verdict: refuse
-- why: In one transaction the VALIDATE scans while the ADD's lock, which stops
--   writes, is still held.
ALTER TABLE orders ADD CONSTRAINT orders_coupon_fk FOREIGN KEY (coupon_code) REFERENCES coupons (code) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_coupon_fk;
