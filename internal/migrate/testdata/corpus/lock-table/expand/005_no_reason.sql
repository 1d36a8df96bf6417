-- bascule:allow lock-table
LOCK TABLE invoices IN EXCLUSIVE MODE;
