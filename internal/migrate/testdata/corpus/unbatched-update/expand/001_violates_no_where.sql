-- Every row of orders locked until the file commits, written again at once.
UPDATE orders SET currency = 'EUR';
