-- The live schema every case of this corpus is judged against: a shop
-- whose live release reads and writes all of it.
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped');
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text,
    name varchar(100) NOT NULL,
    nickname text,
    country char(2),
    created_at timestamptz NOT NULL DEFAULT now(),
    legacy_flags integer
);
CREATE TABLE coupons (code text PRIMARY KEY, percent integer);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL,
    status order_status NOT NULL DEFAULT 'pending',
    total numeric(10,2) NOT NULL DEFAULT 0,
    currency text,
    coupon_code text,
    note varchar(200),
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
CREATE INDEX orders_user_idx ON orders (user_id);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE TABLE line_items (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL,
    qty integer NOT NULL,
    price numeric(10,2) NOT NULL,
    amount numeric GENERATED ALWAYS AS (qty * price) STORED,
    discount numeric(5,2)
);
CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, payload jsonb) PARTITION BY RANGE (created_at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE settings (key text PRIMARY KEY, value text);
CREATE UNIQUE INDEX settings_key_idx ON settings (key);
CREATE VIEW active_users AS SELECT id, email, name FROM users WHERE legacy_flags IS NULL;
CREATE MATERIALIZED VIEW daily_revenue AS
    SELECT date_trunc('day', created_at) AS day, sum(total) AS revenue FROM orders GROUP BY 1;
