-- verdict: pass
-- why: The release that wrote NULL emails is gone: the NOT VALID check is
--   instant and narrows nothing the live release writes.
ALTER TABLE users ADD CONSTRAINT users_email_required CHECK (email IS NOT NULL) NOT VALID;
