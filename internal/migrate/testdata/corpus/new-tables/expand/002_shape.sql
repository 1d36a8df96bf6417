-- Everything here touches tables created above, which are empty and unknown
-- to the live release: no rule about existing tables applies.
CREATE INDEX wishlists_user_id_idx ON wishlists (user_id);
CREATE UNIQUE INDEX wishlist_items_pair_idx ON wishlist_items (wishlist_id, product_id);
ALTER TABLE wishlist_items ADD CONSTRAINT wishlist_items_wishlist_fk FOREIGN KEY (wishlist_id) REFERENCES wishlists (id);
ALTER TABLE wishlist_items ADD PRIMARY KEY (wishlist_id, product_id);
ALTER TABLE wishlist_items ADD COLUMN added_at timestamptz NOT NULL DEFAULT clock_timestamp();
ALTER TABLE wishlist_items ADD COLUMN note text NOT NULL;
ALTER TABLE wishlists ALTER COLUMN user_id TYPE integer;
ALTER TABLE wishlists RENAME COLUMN created_at TO inserted_at;
DROP INDEX wishlists_user_id_idx;
TRUNCATE wishlist_items;
