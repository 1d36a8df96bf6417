-- verdict: pass
-- why: varchar(n) to text is binary-coercible: no rewrite, no scan.
ALTER TABLE orders ALTER COLUMN note TYPE text;
