-- verdict: refuse
-- why: A plain CREATE INDEX holds a SHARE lock on orders for the whole build:
--   every write of the live release waits.
CREATE INDEX orders_created_idx ON orders (created_at);
