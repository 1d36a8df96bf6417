-- bascule:allow drop-view
DROP VIEW old_stats;
