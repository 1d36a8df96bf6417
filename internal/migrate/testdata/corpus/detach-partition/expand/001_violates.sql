-- A year of events vanishes from the live release's queries, and the
-- parent is locked ACCESS EXCLUSIVE while it happens.
ALTER TABLE events DETACH PARTITION events_2023;
