-- Step 1 of 3: the new table beside the old one; this release writes both.
CREATE TABLE customers (LIKE customer INCLUDING ALL);
-- Renaming a table created in this release is fine: nothing live knows it.
CREATE TABLE customer_tags_draft (customer_id bigint, tag text);
ALTER TABLE customer_tags_draft RENAME TO customer_tags;
CREATE INDEX customer_tags_customer_id_idx ON customer_tags (customer_id);
