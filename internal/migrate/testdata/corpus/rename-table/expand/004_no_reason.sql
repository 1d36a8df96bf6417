-- bascule:allow rename-table
ALTER TABLE coupon RENAME TO coupons;
