-- At finalize no running release writes 'paid' any more.
ALTER TYPE order_status RENAME VALUE 'paid' TO 'legacy_paid';
