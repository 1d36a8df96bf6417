-- verdict: refuse
-- why: PostgreSQL refuses CONCURRENTLY inside a transaction block: the
--   deployment fails there.
CREATE INDEX CONCURRENTLY orders_currency_idx ON orders (currency);
