-- verdict: refuse
-- why: The live release may read active_users; a rollback target too.
DROP VIEW active_users;
