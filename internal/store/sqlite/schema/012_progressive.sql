-- The progressive go-live in progress (docs/adr/0019): at most one row per
-- app, removed when the go-live ends. updated_at is unix microseconds.
CREATE TABLE progressive_golive (
	app        TEXT PRIMARY KEY,
	state      TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
