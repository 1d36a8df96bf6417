-- bascule:allow change-column-type varchar(40) to varchar(80) only widens: no rewrite, and v7 reads both
ALTER TABLE orders ALTER COLUMN reference TYPE varchar(80);
