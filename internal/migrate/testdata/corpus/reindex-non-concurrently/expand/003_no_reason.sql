-- bascule:allow reindex-non-concurrently
REINDEX TABLE orders;
