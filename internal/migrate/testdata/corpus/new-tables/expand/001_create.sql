CREATE TABLE wishlists (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE wishlist_items AS SELECT 1::bigint AS wishlist_id, 1::bigint AS product_id WITH NO DATA;
