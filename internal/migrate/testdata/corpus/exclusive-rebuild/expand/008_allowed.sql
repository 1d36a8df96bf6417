-- bascule:allow exclusive-rebuild the view holds 30 rows and refreshes in milliseconds
REFRESH MATERIALIZED VIEW plan_counts;
