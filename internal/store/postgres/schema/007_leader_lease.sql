-- Which bascule instance leads the control plane (docs/adr/0010). One row
-- per lease; token is the fencing token, bumped at every new term. The
-- leader's writes lock this row FOR SHARE and check the token in the same
-- transaction, so a takeover (an UPDATE of the row) waits for them, and a
-- deposed leader's later writes are refused.
CREATE TABLE leader_lease (
	name        text PRIMARY KEY,
	holder      text NOT NULL,
	url         text NOT NULL DEFAULT '',
	token       bigint NOT NULL CHECK (token > 0),
	acquired_at timestamptz NOT NULL,
	renewed_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL
);
