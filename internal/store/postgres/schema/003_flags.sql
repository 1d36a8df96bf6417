-- Every change to the flags writes a whole new version of the configuration
-- (flag.Wire JSON, kept byte for byte as text: jsonb would reorder it). The
-- primary key makes two writers racing from the same version impossible:
-- the second insert of a version fails.
CREATE TABLE flag_versions (
	version    bigint PRIMARY KEY,
	doc        text NOT NULL,
	actor      text NOT NULL,
	summary    text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL
);
