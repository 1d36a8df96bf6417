-- verdict: refuse
-- why: active_users reads legacy_flags: PostgreSQL refuses to drop the column
--   (other objects depend on it) and the finalize fails halfway through its
--   contract step. Drop the view first, in the same file.
ALTER TABLE users DROP COLUMN legacy_flags;
