CREATE TABLE releases (
	version    TEXT PRIMARY KEY,
	digest     TEXT NOT NULL,
	size       INTEGER NOT NULL,
	format     TEXT NOT NULL,
	filename   TEXT NOT NULL,
	notes      TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL,
	created_at TEXT NOT NULL
);

CREATE TABLE deployments (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	app          TEXT NOT NULL,
	version      TEXT NOT NULL REFERENCES releases(version),
	color        TEXT NOT NULL,
	state        TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	log_tail     TEXT NOT NULL DEFAULT '[]',
	steps        TEXT NOT NULL DEFAULT '[]',
	requested_by TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL,
	finished_at  TEXT
);

-- One deployment at a time per app: the database itself refuses a second
-- active one, so two racing requests cannot both pass a check-then-insert.
CREATE UNIQUE INDEX deployments_one_active ON deployments(app)
	WHERE state IN ('queued', 'migrating', 'starting', 'verifying');
CREATE INDEX deployments_app_id ON deployments(app, id);

CREATE TABLE slots (
	app           TEXT NOT NULL,
	color         TEXT NOT NULL,
	version       TEXT NOT NULL,
	deployment_id INTEGER NOT NULL,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (app, color)
);

CREATE TABLE tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT
);

CREATE TABLE audit (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	at      TEXT NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	target  TEXT NOT NULL DEFAULT '',
	outcome TEXT NOT NULL,
	detail  TEXT NOT NULL DEFAULT ''
);

-- The audit log is append only, enforced below the application.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append only'); END;
