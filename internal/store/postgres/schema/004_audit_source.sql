-- Where an audited action came from: the client address and how it
-- authenticated (token or session).
ALTER TABLE audit ADD COLUMN source TEXT NOT NULL DEFAULT '';
