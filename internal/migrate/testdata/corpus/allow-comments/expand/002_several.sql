-- Two findings in one statement need two allows; one is not enough.
-- bascule:allow rename-column the v8 code reads both names through a view
ALTER TABLE accounts RENAME COLUMN nick TO handle;
-- bascule:allow drop-column fax was never exposed by any API
-- bascule:allow drop-not-null sms_opt_in is read as a pointer since v3
ALTER TABLE accounts DROP COLUMN fax, ALTER COLUMN sms_opt_in DROP NOT NULL;
