-- bascule:allow add-column-volatile-default
ALTER TABLE sessions ADD COLUMN nonce uuid DEFAULT uuid_generate_v4();
