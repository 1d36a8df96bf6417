-- The case that broke production: lint-clean before, the shadow saw nothing
-- the live release uses change, yet its inserts, which leave email NULL,
-- fail with 23514 from the moment this commits. NOT VALID spares the
-- existing rows only.
ALTER TABLE users ADD CONSTRAINT users_email_required CHECK (email IS NOT NULL) NOT VALID;
