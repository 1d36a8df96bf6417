-- verdict: pass
-- why: A targeted delete of rows no release serves any more.
DELETE FROM settings WHERE key = 'legacy_banner';
