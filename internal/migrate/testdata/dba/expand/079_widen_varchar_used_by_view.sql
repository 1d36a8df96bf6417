-- verdict: refuse
-- why: Widening alone would be safe, but active_users reads users.name and
--   PostgreSQL refuses to change the type of a column a view uses: the
--   deployment fails here. Drop and recreate the view around it, in one
--   file.
ALTER TABLE users ALTER COLUMN name TYPE varchar(200);
