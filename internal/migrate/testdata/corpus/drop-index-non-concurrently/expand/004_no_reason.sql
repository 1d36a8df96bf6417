-- bascule:allow drop-index-non-concurrently
DROP INDEX orders_tmp_idx;
