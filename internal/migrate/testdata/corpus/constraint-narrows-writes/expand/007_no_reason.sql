-- bascule:allow constraint-narrows-writes
ALTER TABLE prices ADD CONSTRAINT prices_amount_positive CHECK (amount > 0) NOT VALID;
