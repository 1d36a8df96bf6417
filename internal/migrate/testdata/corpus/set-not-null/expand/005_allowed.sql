-- bascule:allow set-not-null countries holds 250 rows and every release sets iso_code
ALTER TABLE countries ALTER COLUMN iso_code SET NOT NULL;
