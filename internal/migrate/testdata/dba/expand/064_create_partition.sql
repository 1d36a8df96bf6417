-- verdict: pass
-- why: A new partition for next year: a brief lock on events, bounded by
--   lock_timeout; nothing the live release reads changes.
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
