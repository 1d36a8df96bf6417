-- Why auto_go_live must not promote a release again (the guard rolled it
-- back); empty for a release that may.
ALTER TABLE releases ADD COLUMN hold TEXT NOT NULL DEFAULT '';
