CREATE TABLE order_totals (order_id bigint PRIMARY KEY, total numeric);
UPDATE order_totals SET total = 0;
