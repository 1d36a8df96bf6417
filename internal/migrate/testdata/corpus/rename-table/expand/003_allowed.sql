-- bascule:allow rename-table the table is only read by the batch job, which is stopped during this deploy
ALTER TABLE report_cache RENAME TO report_cache_v2;
