-- verdict: refuse
-- why: A rename in a contract step breaks the release that is live then: it was
--   built against one name, and only one exists at a time.
ALTER TABLE users RENAME COLUMN nickname TO display_name;
