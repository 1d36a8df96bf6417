-- verdict: pass
-- why: A DO block that only writes a row.
DO $$
BEGIN
  INSERT INTO settings (key, value) VALUES ('v2', 'on') ON CONFLICT (key) DO NOTHING;
END
$$;
