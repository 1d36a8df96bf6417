-- The router registry: one row per data-plane process, rewritten by each
-- heartbeat.
CREATE TABLE routers (
	id        text PRIMARY KEY,
	host      text NOT NULL,
	listen    text NOT NULL,
	installed bigint NOT NULL,
	drained   bigint NOT NULL,
	colors    text NOT NULL,
	last_seen timestamptz NOT NULL
);
