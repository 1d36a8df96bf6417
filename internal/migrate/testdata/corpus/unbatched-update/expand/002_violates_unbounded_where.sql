-- "WHERE currency IS NULL" may well be every row.
UPDATE orders SET currency = 'EUR' WHERE currency IS NULL;
