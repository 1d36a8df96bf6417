-- verdict: refuse
-- why: The live release writes and compares 'paid': after the rename its
--   inserts fail (invalid input value for enum) and its reads miss rows.
ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';
