-- bascule:allow rename-column
ALTER TABLE users RENAME COLUMN zip TO postal_code;
