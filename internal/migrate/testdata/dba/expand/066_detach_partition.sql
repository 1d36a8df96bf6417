-- verdict: refuse
-- why: A year of events disappears from every query of the live release, and
--   the DETACH takes ACCESS EXCLUSIVE on events.
ALTER TABLE events DETACH PARTITION events_2025;
