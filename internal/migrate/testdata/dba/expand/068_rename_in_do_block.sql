-- verdict: refuse
-- why: A rename hidden in a DO block is still a rename: the live release loses
--   nickname.
DO $$
BEGIN
  ALTER TABLE users RENAME COLUMN nickname TO handle;
END
$$;
