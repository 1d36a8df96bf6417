CREATE OR REPLACE FUNCTION rotate_partitions() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS events_old;
END
$$;
