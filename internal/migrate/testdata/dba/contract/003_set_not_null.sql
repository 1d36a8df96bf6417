-- verdict: refuse
-- why: Even at finalize SET NOT NULL scans users under ACCESS EXCLUSIVE while
--   the new release serves; prove it with a validated CHECK first.
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
