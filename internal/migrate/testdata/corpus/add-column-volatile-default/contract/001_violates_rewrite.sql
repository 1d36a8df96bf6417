ALTER TABLE events ADD COLUMN jitter double precision DEFAULT random();
