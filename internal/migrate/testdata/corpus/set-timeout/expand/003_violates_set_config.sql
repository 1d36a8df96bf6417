SELECT set_config('statement_timeout', '0', false);
UPDATE settings SET value = 'x' WHERE key = 'y';
