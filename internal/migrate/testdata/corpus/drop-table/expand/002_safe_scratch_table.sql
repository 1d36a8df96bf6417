-- A table created and dropped in the same release never reached the live one.
CREATE TABLE import_scratch (id bigint PRIMARY KEY, payload jsonb);
DROP TABLE import_scratch;
