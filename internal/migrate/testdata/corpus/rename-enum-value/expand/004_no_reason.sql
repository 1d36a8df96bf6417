-- bascule:allow rename-enum-value
ALTER TYPE invoice_state RENAME VALUE 'void' TO 'cancelled';
