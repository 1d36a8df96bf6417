-- verdict: pass
-- why: A new table: nothing reads it yet, nothing waits on it.
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    number text NOT NULL UNIQUE
);
