-- verdict: refuse
-- why: VACUUM FULL rewrites orders under ACCESS EXCLUSIVE (and cannot run in a
--   transaction block anyway).
VACUUM FULL orders;
