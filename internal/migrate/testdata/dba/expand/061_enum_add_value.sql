-- verdict: pass
-- why: ADD VALUE is a catalog change, allowed in a transaction since PostgreSQL
--   12; the live release never writes the new value.
ALTER TYPE order_status ADD VALUE 'refunded';
