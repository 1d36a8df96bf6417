-- verdict: pass
-- why: A new extension adds functions and types; nothing the live release uses
--   changes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
