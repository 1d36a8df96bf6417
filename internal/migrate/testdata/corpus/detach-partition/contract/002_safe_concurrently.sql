-- +goose NO TRANSACTION
-- At finalize no release reads 2022's events through events any more.
ALTER TABLE events DETACH PARTITION events_2022 CONCURRENTLY;
