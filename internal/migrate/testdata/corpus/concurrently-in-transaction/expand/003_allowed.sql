-- bascule:allow concurrently-in-transaction applied by the DBA with psql, outside the deploy
DROP INDEX CONCURRENTLY orders_old_paid_idx;
