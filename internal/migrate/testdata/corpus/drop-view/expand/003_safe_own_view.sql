-- A view this release creates, replaced within it: nothing runs on it yet.
CREATE VIEW order_summaries AS SELECT id, total FROM orders;
DROP VIEW order_summaries;
CREATE VIEW order_summaries AS SELECT id, total, currency FROM orders;
