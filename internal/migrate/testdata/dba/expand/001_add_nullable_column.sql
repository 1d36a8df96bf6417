-- verdict: pass
-- why: A nullable column without a default is a catalog change: no rewrite, a
--   brief lock. The live release never names it.
ALTER TABLE users ADD COLUMN phone text;
