-- verdict: pass
-- why: Lowering the lock timeout only makes the file give up sooner.
SET LOCAL lock_timeout = '100ms';
ALTER TABLE users ADD COLUMN theme text;
