-- verdict: refuse
-- why: REFERENCES on ADD COLUMN validates at once: a scan of orders under a
--   lock that stops writes (all NULL, still a full scan).
ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES users (id);
