-- verdict: pass
-- why: A grant to other roles changes nothing the live release does.
GRANT SELECT ON orders TO PUBLIC;
