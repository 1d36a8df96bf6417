-- bascule:allow ddl-in-function creates next month's partition; the shadow replay checks it
DO $$
BEGIN
  EXECUTE format('CREATE TABLE IF NOT EXISTS events_%s PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
    to_char(now() + interval '1 month', 'YYYYMM'), date_trunc('month', now() + interval '1 month'), date_trunc('month', now() + interval '2 months'));
END
$$;
