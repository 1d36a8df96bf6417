-- Every change to the flags writes a whole new version of the configuration
-- (flag.Wire JSON). The primary key makes two writers racing from the same
-- version impossible: the second insert of a version fails.
CREATE TABLE flag_versions (
	version    INTEGER PRIMARY KEY,
	doc        TEXT NOT NULL,
	actor      TEXT NOT NULL,
	summary    TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);
