-- verdict: refuse
-- why: LOCK TABLE defaults to ACCESS EXCLUSIVE: no read or write of orders
--   until the file commits.
LOCK TABLE orders;
UPDATE orders SET note = NULL WHERE id = 1;
