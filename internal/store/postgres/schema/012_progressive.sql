-- The progressive go-live in progress (docs/adr/0019): at most one row per
-- app, written by the leader of the control plane with its fencing token
-- checked in the same transaction, removed when the go-live ends. A new
-- leader reads it to carry the go-live on.
CREATE TABLE progressive_golive (
	app        text PRIMARY KEY,
	state      text NOT NULL,
	updated_at timestamptz NOT NULL
);
