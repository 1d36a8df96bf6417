-- Sessions moved to Redis in this release.
DROP TABLE legacy_sessions;
