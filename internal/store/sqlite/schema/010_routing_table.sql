-- The fleet's routing table (docs/adr/0015): one row per app, whose generation
-- never goes down. updated_at is unix microseconds.
CREATE TABLE routing_table (
	app        TEXT PRIMARY KEY,
	generation INTEGER NOT NULL CHECK (generation > 0),
	body       TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
