-- bascule:allow add-constraint-without-not-valid currencies holds 40 rows
ALTER TABLE currencies ADD CONSTRAINT currencies_code_len CHECK (length(code) = 3);
