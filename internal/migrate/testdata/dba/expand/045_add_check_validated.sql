-- verdict: refuse
-- why: A validated CHECK scans orders under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_currency_len CHECK (length(currency) = 3);
