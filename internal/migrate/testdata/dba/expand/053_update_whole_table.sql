-- verdict: warn
-- why: Every row of orders is locked until the file commits and written again
--   at once; fine for a small table, an outage of writes for a large one.
UPDATE orders SET currency = 'EUR';
