DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE tablename LIKE 'audit_%' LOOP
    EXECUTE format('ALTER TABLE %I ADD COLUMN actor text', t);
  END LOOP;
END
$$;
