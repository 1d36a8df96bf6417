UPDATE orders SET currency = 'EUR'
 WHERE id IN (SELECT id FROM orders WHERE currency IS NULL ORDER BY id LIMIT 1000);
UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 1 AND 10000 AND currency IS NULL;
UPDATE settings SET value = 'on' WHERE key = 'invoices';
