-- bascule:allow rename-enum-value no release has written 'draft' since v12, and none reads it
ALTER TYPE invoice_state RENAME VALUE 'draft' TO 'pending';
