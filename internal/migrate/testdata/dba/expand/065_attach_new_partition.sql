-- verdict: pass
-- why: The attached table is new and empty: the validation scan is instant, and
--   ATTACH takes only SHARE UPDATE EXCLUSIVE on events.
CREATE TABLE events_2027 (LIKE events INCLUDING ALL);
ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
