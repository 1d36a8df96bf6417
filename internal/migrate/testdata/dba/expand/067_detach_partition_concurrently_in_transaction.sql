-- verdict: refuse
-- why: DETACH … CONCURRENTLY cannot run in a transaction block: the deployment
--   fails there (and the data would vanish from the live release's queries
--   anyway).
ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY;
