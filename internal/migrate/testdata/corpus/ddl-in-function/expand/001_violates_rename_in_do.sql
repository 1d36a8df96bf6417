-- The rename the end-to-end run hid in a DO block: the lint now reads the
-- block's statements (rename-column, an error) and warns that it cannot
-- see everything a block does.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email') THEN
    ALTER TABLE users RENAME COLUMN email TO email_address;
  END IF;
END
$$;
