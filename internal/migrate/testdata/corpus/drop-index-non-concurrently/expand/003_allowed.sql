-- bascule:allow drop-index-non-concurrently the index is on the 40-row currencies table
DROP INDEX currencies_name_idx;
