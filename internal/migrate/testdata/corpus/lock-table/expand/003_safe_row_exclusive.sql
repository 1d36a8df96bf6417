-- ROW EXCLUSIVE is what any UPDATE takes: reads and writes go on.
LOCK TABLE coupons IN ROW EXCLUSIVE MODE;
UPDATE coupons SET active = false WHERE code = 'SPRING';
