-- verdict: pass
-- why: A targeted update of one row.
UPDATE settings SET value = 'on' WHERE key = 'invoices';
