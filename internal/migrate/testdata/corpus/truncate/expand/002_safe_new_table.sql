CREATE TABLE price_import (sku text, price numeric);
TRUNCATE price_import;
