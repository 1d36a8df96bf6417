-- The router registry: one row per data-plane process, rewritten by each
-- heartbeat. last_seen is unix microseconds, so that it compares as a number.
CREATE TABLE routers (
	id        TEXT PRIMARY KEY,
	host      TEXT NOT NULL,
	listen    TEXT NOT NULL,
	installed INTEGER NOT NULL,
	drained   INTEGER NOT NULL,
	colors    TEXT NOT NULL,
	last_seen INTEGER NOT NULL
);
