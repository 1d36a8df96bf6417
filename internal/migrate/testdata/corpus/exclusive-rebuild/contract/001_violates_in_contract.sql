-- At finalize the new release serves orders: the same long lock.
CLUSTER orders USING orders_created_idx;
