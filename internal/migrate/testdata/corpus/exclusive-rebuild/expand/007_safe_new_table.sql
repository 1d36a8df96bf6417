CREATE TABLE import_batches (id bigint PRIMARY KEY, payload jsonb);
ALTER TABLE import_batches SET UNLOGGED;
