-- The error names the line of the mistake, not of the statement.
CREATE TABLE coupons (
    code text PRIMARY KEY,
    percent int NOT NULL
    expires_at timestamptz
);
ALTER TABEL orders ADD COLUMN discount int;
