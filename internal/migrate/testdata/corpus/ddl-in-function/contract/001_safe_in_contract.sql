-- Contract steps may remove what the previous release needed: only the
-- locking rules apply, and this one is not one.
DO $$ BEGIN EXECUTE 'DROP TABLE IF EXISTS legacy_sessions'; END $$;
