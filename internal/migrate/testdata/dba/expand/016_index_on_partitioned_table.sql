-- verdict: refuse
-- why: An index on a partitioned table cannot be built CONCURRENTLY; this one
--   locks every partition's writes for the whole build. The safe path:
--   CREATE INDEX ON ONLY events, CONCURRENTLY on each partition, then ATTACH
--   PARTITION each index.
CREATE INDEX events_payload_idx ON events USING gin (payload);
