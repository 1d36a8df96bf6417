-- The fleet's routing table (docs/adr/0015): one row per app, written by the
-- leader of the control plane with its fencing token checked in the same
-- transaction, read by every instance. The generation never goes down: a
-- write takes the greater of the one it asks for and the stored one + 1.
CREATE TABLE routing_table (
	app        text PRIMARY KEY,
	generation bigint NOT NULL CHECK (generation > 0),
	body       text NOT NULL,
	updated_at timestamptz NOT NULL
);

-- Every write tells the instances that LISTEN, at commit: a follower
-- installs the new table without waiting for its next poll.
CREATE FUNCTION notify_routing_table() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('bascule_routing_table', NEW.app);
	RETURN NULL;
END $$;
CREATE TRIGGER notify_routing_table AFTER INSERT OR UPDATE ON routing_table
	FOR EACH ROW EXECUTE FUNCTION notify_routing_table();
