-- +goose NO TRANSACTION
-- bascule:allow set-timeout the index build on events takes about 40 minutes; CONCURRENTLY blocks no query meanwhile
SET statement_timeout = '2h';
CREATE INDEX CONCURRENTLY events_created_at_idx ON events (created_at);
