-- Its own transaction: validation takes a lock that lets writes through.
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
