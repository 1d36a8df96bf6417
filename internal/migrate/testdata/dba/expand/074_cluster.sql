-- verdict: refuse
-- why: CLUSTER rewrites orders under ACCESS EXCLUSIVE.
CLUSTER orders USING orders_user_idx;
