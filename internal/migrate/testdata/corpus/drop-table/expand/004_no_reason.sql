-- bascule:allow drop-table
DROP TABLE audit_2020;
