-- verdict: refuse
-- why: REINDEX blocks writes to orders, and reads that use the index, for the
--   whole rebuild.
REINDEX INDEX orders_user_idx;
