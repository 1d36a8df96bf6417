-- verdict: pass
-- why: A check on a column this release adds: the live release leaves it NULL,
--   which the check lets through.
ALTER TABLE orders ADD COLUMN discount numeric;
ALTER TABLE orders ADD CONSTRAINT orders_discount_positive CHECK (discount >= 0) NOT VALID;
