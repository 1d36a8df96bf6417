-- Needs a unique index on the view; reads go on during the refresh.
REFRESH MATERIALIZED VIEW CONCURRENTLY daily_revenue;
