ALTER TABLE users DROP COLUMN tmp_flag; -- bascule:allow drop-column tmp_flag was added in v41 and never shipped to any release
