-- verdict: refuse
-- why: The live release still selects and inserts nickname.
ALTER TABLE users DROP COLUMN nickname;
