-- verdict: warn
-- why: No scan, no long lock; but from now on every order the live release
--   writes with an unknown coupon code is refused (23503).
ALTER TABLE orders ADD CONSTRAINT orders_coupon_fk FOREIGN KEY (coupon_code) REFERENCES coupons (code) NOT VALID;
