-- bascule:allow add-column-volatile-default feature_votes is a 2 000-row table, the rewrite takes milliseconds
ALTER TABLE feature_votes ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();
