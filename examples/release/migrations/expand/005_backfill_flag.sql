-- Data changes are allowed: both releases keep working.
UPDATE orders SET invoiced = true
 WHERE id IN (SELECT order_id FROM invoices);
INSERT INTO feature_flags (key, enabled) VALUES ('invoices', false)
    ON CONFLICT (key) DO NOTHING;
