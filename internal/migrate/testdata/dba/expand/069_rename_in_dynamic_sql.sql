-- verdict: refuse
-- why: The same rename, built as text: no parser sees it; only running it (the
--   shadow replay) shows nickname gone.
DO $$
BEGIN
  EXECUTE 'ALTER TABLE users RENAME COLUMN ' || 'nickname TO handle';
END
$$;
