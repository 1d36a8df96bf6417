-- verdict: pass
-- why: A comment changes nothing the live release does.
COMMENT ON COLUMN users.legacy_flags IS 'unused since v7; dropped in a contract step';
