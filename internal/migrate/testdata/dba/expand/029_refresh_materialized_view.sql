-- verdict: refuse
-- why: REFRESH without CONCURRENTLY holds ACCESS EXCLUSIVE on daily_revenue for
--   the whole refresh: the live release's reads of it wait.
REFRESH MATERIALIZED VIEW daily_revenue;
