-- verdict: warn
-- why: The new release may write NULL names that the live release does not
--   expect when it reads them.
ALTER TABLE users ALTER COLUMN name DROP NOT NULL;
