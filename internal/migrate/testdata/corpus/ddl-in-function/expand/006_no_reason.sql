-- bascule:allow ddl-in-function
DO $$ BEGIN EXECUTE 'CREATE INDEX IF NOT EXISTS users_created_idx ON users (created_at)'; END $$;
