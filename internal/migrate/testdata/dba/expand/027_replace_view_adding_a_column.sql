-- verdict: pass
-- why: CREATE OR REPLACE VIEW may only add columns at the end: what the live
--   release reads is unchanged.
CREATE OR REPLACE VIEW active_users AS SELECT id, email, name, country FROM users WHERE legacy_flags IS NULL;
