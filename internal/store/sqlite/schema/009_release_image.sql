-- A release that is a container image: its reference by digest
-- (registry/name@sha256:…), which the kubernetes driver runs; the release's
-- artifact then holds only its migrations. Empty for a release whose
-- artifact is the program itself.
ALTER TABLE releases ADD COLUMN image TEXT NOT NULL DEFAULT '';
