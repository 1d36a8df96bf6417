-- Webhook notifications go through an outbox. notify_events records what
-- happened; the triggers below write it in the same transaction as the
-- change it reports, so that no change is committed without its event,
-- whatever happens to bascule next. bascule turns each event into one
-- delivery per webhook that wants it, retried until the receiver accepts it.
CREATE TABLE notify_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	at         TEXT NOT NULL,
	source     TEXT NOT NULL,
	payload    TEXT NOT NULL,
	dispatched INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notify_events_pending ON notify_events (id) WHERE dispatched = 0;

-- Times are unix microseconds, so that they compare as numbers.
CREATE TABLE notify_deliveries (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id    INTEGER NOT NULL,
	endpoint    TEXT NOT NULL,
	target      TEXT NOT NULL,
	event_type  TEXT NOT NULL,
	summary     TEXT NOT NULL DEFAULT '',
	body        BLOB NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_status INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	last_at     INTEGER,
	next_at     INTEGER NOT NULL,
	done_at     INTEGER,
	UNIQUE (event_id, endpoint)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_at) WHERE state = 'pending';

CREATE TRIGGER notify_deployment_created AFTER INSERT ON deployments
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.updated_at, 'deployment', json_object(
		'id', NEW.id, 'app', NEW.app, 'version', NEW.version, 'color', NEW.color, 'from', '', 'to', NEW.state,
		'reason', NEW.reason, 'error', NEW.error, 'requested_by', NEW.requested_by));
END;

CREATE TRIGGER notify_deployment_changed AFTER UPDATE OF state ON deployments
	WHEN OLD.state IS NOT NEW.state
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.updated_at, 'deployment', json_object(
		'id', NEW.id, 'app', NEW.app, 'version', NEW.version, 'color', NEW.color, 'from', OLD.state, 'to', NEW.state,
		'reason', NEW.reason, 'error', NEW.error, 'requested_by', NEW.requested_by));
END;

-- Switches are told from the audit log, which knows who asked for them.
CREATE TRIGGER notify_switch AFTER INSERT ON audit
	WHEN NEW.action IN ('go-live', 'rollback') AND NEW.outcome IN ('ok', 'failed')
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.at, 'audit', json_object(
		'id', NEW.id, 'actor', NEW.actor, 'action', NEW.action, 'target', NEW.target,
		'outcome', NEW.outcome, 'detail', NEW.detail));
END;

CREATE TRIGGER notify_flags AFTER INSERT ON flag_versions
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.created_at, 'flags', json_object(
		'version', NEW.version, 'actor', NEW.actor, 'summary', NEW.summary));
END;
