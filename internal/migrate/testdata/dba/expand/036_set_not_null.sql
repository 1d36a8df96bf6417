-- verdict: refuse
-- why: SET NOT NULL scans users under ACCESS EXCLUSIVE, and the live release's
--   inserts that leave email NULL start failing.
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
