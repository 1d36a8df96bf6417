-- verdict: pass
-- why: ROW EXCLUSIVE is the lock any UPDATE takes: reads and writes go on.
LOCK TABLE coupons IN ROW EXCLUSIVE MODE;
UPDATE coupons SET percent = 10 WHERE code = 'SPRING';
