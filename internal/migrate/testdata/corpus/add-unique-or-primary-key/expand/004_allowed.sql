-- bascule:allow add-unique-or-primary-key tags has 300 rows, the build takes no time
ALTER TABLE tags ADD PRIMARY KEY (id);
