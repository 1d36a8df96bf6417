-- An allow applies only to the rule it names.
-- bascule:allow drop-table wrong rule on purpose
ALTER TABLE accounts DROP COLUMN pager;
