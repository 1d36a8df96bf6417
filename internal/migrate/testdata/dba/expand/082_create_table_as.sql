-- verdict: pass
-- why: A new table filled from a query: reads orders, locks nothing the live
--   release writes (a long query on a large table, nothing more).
CREATE TABLE order_stats AS SELECT user_id, count(*) AS n FROM orders GROUP BY user_id;
