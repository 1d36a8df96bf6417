-- bascule:allow reindex-non-concurrently feature_flags has 80 rows; the rebuild takes a millisecond
REINDEX TABLE feature_flags;
