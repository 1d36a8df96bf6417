-- verdict: pass
-- why: At finalize the release that read nickname is gone for good: dropping it
--   is the point of the contract step (a brief ACCESS EXCLUSIVE, no
--   rewrite).
ALTER TABLE users DROP COLUMN nickname;
