-- Pasted from pg_dump --schema-only: its preamble switches both timeouts
-- off, and the ALTER below would then wait for its lock for as long as any
-- production transaction on users lasts, with every query queued behind it.
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET row_security = off;

ALTER TABLE public.users ADD COLUMN nickname text;
