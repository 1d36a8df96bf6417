-- verdict: refuse
-- why: char(n) to text is not binary-coercible (trailing blanks): a rewrite
--   under ACCESS EXCLUSIVE.
ALTER TABLE users ALTER COLUMN country TYPE text;
