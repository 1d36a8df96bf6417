-- verdict: warn
-- why: An unbounded UPDATE … FROM: as many rows as orders has, locked in one
--   transaction.
UPDATE orders o SET currency = u.country FROM users u WHERE o.user_id = u.id AND o.currency IS NULL;
