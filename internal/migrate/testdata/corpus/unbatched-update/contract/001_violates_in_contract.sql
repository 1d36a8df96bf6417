-- At finalize the new release is live and writes orders: same row locks.
UPDATE orders SET legacy_total = NULL;
