CREATE TABLE releases (
	version    text PRIMARY KEY,
	digest     text NOT NULL,
	size       bigint NOT NULL,
	format     text NOT NULL,
	filename   text NOT NULL,
	notes      text NOT NULL DEFAULT '',
	created_by text NOT NULL,
	created_at timestamptz NOT NULL,
	-- Breaks ties between releases registered at the same instant, in
	-- registration order (SQLite's rowid plays this part).
	seq        bigint GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE deployments (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	app          text NOT NULL,
	version      text NOT NULL REFERENCES releases(version),
	color        text NOT NULL,
	state        text NOT NULL,
	reason       text NOT NULL DEFAULT '',
	error        text NOT NULL DEFAULT '',
	log_tail     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(log_tail) = 'array'),
	steps        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(steps) = 'array'),
	requested_by text NOT NULL,
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL,
	finished_at  timestamptz
);

-- One deployment at a time per app: the database itself refuses a second
-- active one, so two racing requests, even from two bascule instances,
-- cannot both pass a check-then-insert.
CREATE UNIQUE INDEX deployments_one_active ON deployments (app)
	WHERE state IN ('queued', 'migrating', 'starting', 'verifying');
CREATE INDEX deployments_app_id ON deployments (app, id);

CREATE TABLE slots (
	app           text NOT NULL,
	color         text NOT NULL,
	version       text NOT NULL,
	deployment_id bigint NOT NULL,
	updated_at    timestamptz NOT NULL,
	PRIMARY KEY (app, color)
);

CREATE TABLE tokens (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL,
	hash       text NOT NULL UNIQUE,
	role       text NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz
);

CREATE TABLE audit (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at      timestamptz NOT NULL,
	actor   text NOT NULL,
	action  text NOT NULL,
	target  text NOT NULL DEFAULT '',
	outcome text NOT NULL,
	detail  text NOT NULL DEFAULT ''
);

-- The audit log is append only, enforced below the application: UPDATE,
-- DELETE and TRUNCATE fail whoever runs them.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit log is append only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
