-- The safe first step: the new label beside the old one.
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'settled' AFTER 'paid';
