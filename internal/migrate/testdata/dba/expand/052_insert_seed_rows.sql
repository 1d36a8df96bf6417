-- verdict: pass
-- why: Adding rows, idempotently: both releases keep working.
INSERT INTO settings (key, value) VALUES ('invoices', 'off') ON CONFLICT (key) DO NOTHING;
