-- At finalize the release that is live then was built against one name,
-- and a rename leaves only the other: it breaks as the one before would.
ALTER TABLE users RENAME COLUMN nickname TO display_name;
