-- bascule:allow drop-not-null v9 scans middle_name into sql.NullString already
ALTER TABLE users ALTER COLUMN middle_name DROP NOT NULL;
