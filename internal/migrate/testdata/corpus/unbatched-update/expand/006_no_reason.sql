-- bascule:allow unbatched-update
UPDATE customers SET country = 'FR';
