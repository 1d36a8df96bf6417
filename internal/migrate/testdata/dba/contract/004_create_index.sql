-- verdict: refuse
-- why: A plain CREATE INDEX stops the new release's writes for the whole build,
--   in contract as in expand.
CREATE INDEX users_created_idx ON users (created_at);
