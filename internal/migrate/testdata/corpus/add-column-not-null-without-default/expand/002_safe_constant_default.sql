-- A constant default is stored once (PostgreSQL 11+): no rewrite, and the live
-- release's inserts get the default.
ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';
ALTER TABLE orders ADD COLUMN note text;
