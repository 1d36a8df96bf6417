/* bascule:allow drop-column */
ALTER TABLE users DROP COLUMN nickname;
