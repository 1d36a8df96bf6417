-- verdict: pass
-- why: The unique index exists already (built concurrently before); attaching
--   it as the key is a catalog change.
ALTER TABLE settings DROP CONSTRAINT settings_pkey;
ALTER TABLE settings ADD CONSTRAINT settings_pkey PRIMARY KEY USING INDEX settings_key_idx;
