-- bascule:allow lock-table the ALTER below takes this lock anyway; taking it first keeps the two from deadlocking with the app's writes
LOCK TABLE users IN ACCESS EXCLUSIVE MODE;
ALTER TABLE users ADD COLUMN locale text;
