LOCK TABLE payments IN SHARE MODE;
INSERT INTO payments_archive SELECT * FROM payments WHERE created_at < '2020-01-01';
