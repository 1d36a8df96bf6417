-- verdict: refuse
-- why: DROP INDEX takes ACCESS EXCLUSIVE on orders; and the live release's
--   queries may need the index.
DROP INDEX orders_user_idx;
