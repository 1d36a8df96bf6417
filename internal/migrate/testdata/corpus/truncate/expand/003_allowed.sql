-- bascule:allow truncate search_cache is rebuilt by both releases on demand
TRUNCATE TABLE search_cache;
