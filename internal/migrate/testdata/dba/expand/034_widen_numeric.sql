-- verdict: pass
-- why: numeric(5,2) to numeric(7,2): same scale, more precision, no rewrite.
ALTER TABLE line_items ALTER COLUMN discount TYPE numeric(7,2);
