-- bascule:allow constraint-narrows-writes every release since v12 writes currency in upper case; compat_command checks v14
ALTER TABLE prices ADD CONSTRAINT prices_currency_upper CHECK (currency = upper(currency)) NOT VALID;
