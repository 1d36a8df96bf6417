-- A constraint on a column this release adds: the live release never
-- writes it, so its rows keep NULL there, which the check lets through.
ALTER TABLE users ADD COLUMN age integer;
ALTER TABLE users ADD CONSTRAINT users_age_positive CHECK (age > 0) NOT VALID;
ALTER TABLE users ADD COLUMN referrer_id bigint;
ALTER TABLE users ADD CONSTRAINT users_referrer_fk FOREIGN KEY (referrer_id) REFERENCES users (id) NOT VALID;
