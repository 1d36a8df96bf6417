-- bascule:allow drop-colum typo in the rule name allows nothing
ALTER TABLE users DROP COLUMN fax;
