TRUNCATE orders_archive;
