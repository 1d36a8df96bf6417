-- The fleet's routing table (docs/adr/0015): one row, whose generation
-- never goes down. updated_at is unix microseconds.
CREATE TABLE routing_table (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL CHECK (generation > 0),
	body       TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
