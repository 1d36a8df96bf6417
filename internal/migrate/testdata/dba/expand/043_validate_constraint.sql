-- verdict: pass
-- why: VALIDATE CONSTRAINT alone in its file takes a lock that lets reads and
--   writes through while it scans.
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
