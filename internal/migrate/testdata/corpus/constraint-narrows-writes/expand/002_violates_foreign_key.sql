ALTER TABLE orders ADD CONSTRAINT orders_coupon_fk
    FOREIGN KEY (coupon_code) REFERENCES coupons (code) NOT VALID;
