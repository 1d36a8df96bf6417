-- verdict: warn
-- why: The table is renamed and a simple view keeps the old name readable and
--   writable (it is auto-updatable), so most of the live release's queries
--   work; but INSERT … ON CONFLICT, some RETURNING and locking clauses do
--   not behave the same on a view, and a DBA checks the live release's
--   queries first.
ALTER TABLE coupons RENAME TO vouchers;
CREATE VIEW coupons AS SELECT code, percent FROM vouchers;
