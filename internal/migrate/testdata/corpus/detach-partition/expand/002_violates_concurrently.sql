-- +goose NO TRANSACTION
-- No long lock, but the rows still vanish from the live release's queries.
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;
