-- bascule:allow exclusive-rebuild
CLUSTER events;
