-- bascule:allow create-index-non-concurrently plans has 12 rows
CREATE UNIQUE INDEX plans_code_idx ON plans (code);
