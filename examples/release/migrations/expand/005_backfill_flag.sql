-- Data changes are allowed: both releases keep working. A backfill of a
-- large table goes in batches, each in its own transaction (a job, or a
-- NO TRANSACTION file of bounded UPDATEs); this shop's orders are few.
-- bascule:allow unbatched-update the example shop has a few thousand orders: one short transaction
UPDATE orders SET invoiced = true
 WHERE id IN (SELECT order_id FROM invoices);
INSERT INTO feature_flags (key, enabled) VALUES ('invoices', false)
    ON CONFLICT (key) DO NOTHING;
