-- verdict: warn
-- why: Creating the function changes nothing; whoever calls it later drops a
--   table the lint never sees.
CREATE FUNCTION purge_events() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS events_2025;
END
$$;
