-- verdict: refuse
-- why: Changing the column to a new enum type rewrites orders, and the live
--   release's 'shipped' is gone from the type.
CREATE TYPE order_status_v2 AS ENUM ('pending', 'paid', 'delivered');
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE orders ALTER COLUMN status TYPE order_status_v2 USING status::text::order_status_v2;
