CLUSTER orders USING orders_created_idx;
