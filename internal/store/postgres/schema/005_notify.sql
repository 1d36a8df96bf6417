-- Webhook notifications go through an outbox. notify_events records what
-- happened; the triggers below write it in the same transaction as the
-- change it reports, so that no change is committed without its event,
-- whatever happens to bascule next. bascule turns each event into one
-- delivery per webhook that wants it, retried until the receiver accepts it.
CREATE TABLE notify_events (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         timestamptz NOT NULL,
	source     text NOT NULL,
	payload    text NOT NULL,
	dispatched boolean NOT NULL DEFAULT false
);
CREATE INDEX notify_events_pending ON notify_events (id) WHERE NOT dispatched;

CREATE TABLE notify_deliveries (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id    bigint NOT NULL,
	endpoint    text NOT NULL,
	target      text NOT NULL,
	event_type  text NOT NULL,
	summary     text NOT NULL DEFAULT '',
	body        bytea NOT NULL,
	state       text NOT NULL,
	attempts    integer NOT NULL DEFAULT 0,
	last_status integer NOT NULL DEFAULT 0,
	last_error  text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	last_at     timestamptz,
	next_at     timestamptz NOT NULL,
	done_at     timestamptz,
	UNIQUE (event_id, endpoint)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_at) WHERE state = 'pending';

CREATE FUNCTION notify_deployment_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.updated_at, 'deployment', json_build_object(
		'id', NEW.id, 'app', NEW.app, 'version', NEW.version, 'color', NEW.color, 'from', '', 'to', NEW.state,
		'reason', NEW.reason, 'error', NEW.error, 'requested_by', NEW.requested_by)::text);
	RETURN NULL;
END;
$$;
CREATE TRIGGER notify_deployment_created AFTER INSERT ON deployments
	FOR EACH ROW EXECUTE FUNCTION notify_deployment_created();

CREATE FUNCTION notify_deployment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.updated_at, 'deployment', json_build_object(
		'id', NEW.id, 'app', NEW.app, 'version', NEW.version, 'color', NEW.color, 'from', OLD.state, 'to', NEW.state,
		'reason', NEW.reason, 'error', NEW.error, 'requested_by', NEW.requested_by)::text);
	RETURN NULL;
END;
$$;
CREATE TRIGGER notify_deployment_changed AFTER UPDATE OF state ON deployments
	FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION notify_deployment_changed();

-- Switches are told from the audit log, which knows who asked for them.
CREATE FUNCTION notify_switch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.at, 'audit', json_build_object(
		'id', NEW.id, 'actor', NEW.actor, 'action', NEW.action, 'target', NEW.target,
		'outcome', NEW.outcome, 'detail', NEW.detail)::text);
	RETURN NULL;
END;
$$;
CREATE TRIGGER notify_switch AFTER INSERT ON audit FOR EACH ROW
	WHEN (NEW.action IN ('go-live', 'rollback') AND NEW.outcome IN ('ok', 'failed'))
	EXECUTE FUNCTION notify_switch();

CREATE FUNCTION notify_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO notify_events (at, source, payload) VALUES (NEW.created_at, 'flags', json_build_object(
		'version', NEW.version, 'actor', NEW.actor, 'summary', NEW.summary)::text);
	RETURN NULL;
END;
$$;
CREATE TRIGGER notify_flags AFTER INSERT ON flag_versions
	FOR EACH ROW EXECUTE FUNCTION notify_flags();
