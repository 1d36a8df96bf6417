-- verdict: warn
-- why: amount becomes a plain column: no rewrite, but rows the live release
--   inserts from now on get NULL there instead of qty * price.
ALTER TABLE line_items ALTER COLUMN amount DROP EXPRESSION;
