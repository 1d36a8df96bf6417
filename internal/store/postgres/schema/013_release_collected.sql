-- When the release's artifact was garbage-collected (ADR 0020): its bytes
-- were deleted from the store and the disks, its row stays in the history.
-- NULL while the artifact is kept.
ALTER TABLE releases ADD COLUMN collected_at timestamptz;
