CREATE INDEX orders_status_idx ON orders (status); -- bascule:allow create-index-non-concurrently
