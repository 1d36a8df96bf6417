-- Contract runs at finalize, when the live release has filled wishlists:
-- it is no longer new, so locking rules apply again.
CREATE INDEX wishlists_inserted_at_idx ON wishlists (inserted_at);
