-- verdict: warn
-- why: The issue's case: instant and lint-clean before, but the live release's
--   inserts that leave email NULL fail (23514) from the commit on. Only the
--   live release's own checks can tell.
ALTER TABLE users ADD CONSTRAINT users_email_required CHECK (email IS NOT NULL) NOT VALID;
