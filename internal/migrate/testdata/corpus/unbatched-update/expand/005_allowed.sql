-- bascule:allow unbatched-update currencies holds 40 rows
UPDATE currencies SET symbol = upper(symbol);
