-- bascule:allow rename-column only the admin tool reads this column and it is deployed with this release
ALTER TABLE admin_notes RENAME COLUMN txt TO body;
