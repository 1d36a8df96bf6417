-- Contract: the live release no longer uses legacy_sessions.
DROP TABLE IF EXISTS legacy_sessions;
