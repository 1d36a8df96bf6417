-- verdict: refuse
-- why: The pg_dump preamble switches lock_timeout and statement_timeout off:
--   the ALTER after it may wait on a lock as long as any transaction on
--   users lasts, with every query on users queued behind it.
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET client_min_messages = warning;
SET row_security = off;

ALTER TABLE public.users ADD COLUMN locale text;
