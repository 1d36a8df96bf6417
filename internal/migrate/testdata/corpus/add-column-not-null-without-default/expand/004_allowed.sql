-- bascule:allow add-column-not-null-without-default beta_invites is empty in production and only this release writes it
ALTER TABLE beta_invites ADD COLUMN inviter_id bigint NOT NULL;
