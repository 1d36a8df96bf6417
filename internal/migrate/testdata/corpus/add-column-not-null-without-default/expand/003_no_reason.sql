ALTER TABLE orders
    -- bascule:allow add-column-not-null-without-default
    ADD COLUMN channel text NOT NULL;
