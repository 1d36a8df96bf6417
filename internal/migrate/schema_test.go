package migrate_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/google/go-cmp/cmp"
)

// richPostgres is a schema with one of most things an app's schema holds.
const richPostgres = `
CREATE SCHEMA billing;
CREATE TYPE status AS ENUM ('new', 'paid', 'void');
CREATE TYPE money_pair AS (amount numeric(12,2), currency char(3));
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE FUNCTION slugify(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(replace(t, ' ', '-')) $$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE SEQUENCE invoice_numbers START 1000;
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email email NOT NULL UNIQUE,
    name varchar(100) NOT NULL COLLATE "C",
    slug text GENERATED ALWAYS AS (slugify(name)) STORED,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE billing.invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number integer NOT NULL DEFAULT nextval('invoice_numbers'),
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    status status NOT NULL DEFAULT 'new',
    total money_pair,
    during tstzrange,
    CONSTRAINT total_positive CHECK ((total).amount >= 0) NOT VALID,
    EXCLUDE USING gist (during WITH &&)
);
CREATE INDEX invoices_open_idx ON billing.invoices (customer_id) WHERE status = 'new';
CREATE UNIQUE INDEX customers_lower_email ON customers (lower(email::text));
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX events_at_idx ON events (at);
CREATE VIEW paid_totals AS SELECT 1::bigint AS customer_id, 1::bigint AS n;
CREATE VIEW open_invoices AS SELECT * FROM billing.invoices WHERE status = 'new';
CREATE OR REPLACE VIEW paid_totals AS SELECT customer_id, count(*) AS n FROM open_invoices GROUP BY customer_id;
CREATE MATERIALIZED VIEW customer_slugs AS SELECT id, slug FROM customers;
CREATE UNIQUE INDEX customer_slugs_id ON customer_slugs (id);
CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION touch();
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v jsonb);
`

const richSQLite = `
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT 'anonymous',
    slug TEXT GENERATED ALWAYS AS (lower(name)) STORED,
    updated_at TEXT
);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid')),
    total REAL
);
CREATE TABLE tags (invoice_id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (invoice_id, tag)) WITHOUT ROWID;
CREATE INDEX invoices_open ON invoices (customer_id) WHERE status = 'new';
CREATE VIEW open_invoices AS SELECT * FROM invoices WHERE status = 'new';
CREATE TRIGGER customers_touch AFTER UPDATE ON customers BEGIN UPDATE customers SET updated_at = datetime('now') WHERE id = NEW.id; END;
`

// richSchema returns the statements of a rich schema in tg's dialect. On
// PostgreSQL, paid_totals is older than the view it selects from (it was
// replaced), so the copy needs a second pass for it.
func richSchema(tg target) []string {
	if tg.name == "sqlite" {
		return []string{richSQLite}
	}
	return []string{richPostgres}
}

func TestInspect(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		exec(t, db, richSchema(tg)...)
		s, err := tg.d.Inspect(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		cust := s.Table("customers")
		if cust == nil {
			t.Fatalf("Inspect found no customers table in %v", tableNames(s))
		}
		email := cust.Column("email")
		if email == nil || !email.NotNull {
			t.Errorf("customers.email = %+v, want a NOT NULL column", email)
		}
		if c := cust.Column("slug"); c == nil || !c.Generated {
			t.Errorf("customers.slug = %+v, want a generated column", c)
		}
		if c := cust.Column("id"); c == nil || (tg.name == "sqlite" && !c.Generated) || (tg.name == "postgres" && c.Default == "") {
			t.Errorf("customers.id = %+v, want a column the database fills", c)
		}
		if c := cust.Column("name"); c == nil || (tg.name == "sqlite" && c.Default != "'anonymous'") {
			t.Errorf("customers.name = %+v", c)
		}
		if !hasConstraint(cust, migrate.PrimaryKey) || !hasConstraint(cust, migrate.Unique) {
			t.Errorf("customers constraints = %+v, want a primary key and a unique constraint", cust.Constraints)
		}
		inv := s.Table("invoices")
		if tg.name == "postgres" {
			inv = s.Table("billing.invoices")
		}
		if inv == nil || !hasConstraint(inv, migrate.ForeignKey) || len(inv.Indexes) == 0 {
			t.Errorf("invoices = %+v, want a foreign key and indexes", inv)
		}
		if v := s.Table("open_invoices"); v == nil || !v.View || v.Column("status") == nil {
			t.Errorf("open_invoices = %+v, want a view with a status column", v)
		}
		if s.Table(migrate.HistoryTable) != nil {
			t.Error("Inspect lists bascule's own history table")
		}
	})
}

// The shadow holds the same schema as production, by Inspect's account,
// and the same history, but none of the data.
func TestShadowCopiesTheSchema(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		db := tg.open(t)
		ctx := context.Background()
		exec(t, db, richSchema(tg)...)
		exec(t, db, "INSERT INTO customers (email, name) VALUES ('a@example.com', 'Ann')")
		r := &migrate.Runner{Dialect: tg.d}
		if _, err := r.Apply(ctx, db, parse(t, "expand/001_notes.sql", "CREATE TABLE notes (id integer PRIMARY KEY);\n"), "v1", nil); err != nil {
			t.Fatal(err)
		}
		var notes lines
		opts := migrate.ShadowOptions{LiveURL: tg.url, Note: notes.add}
		if tg.name == "sqlite" {
			opts.At = t.TempDir()
		}
		sh, err := tg.d.Shadow(ctx, db, opts)
		if err != nil {
			t.Fatalf("Shadow = %v", err)
		}
		defer sh.Drop(ctx)
		if notes.String() != "" {
			t.Errorf("Shadow left things out:\n%s", notes.String())
		}
		sdb := target{tg.name, tg.d, sh.URL}.open(t)
		live, err := tg.d.Inspect(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		copied, err := tg.d.Inspect(ctx, sdb)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(live, copied); diff != "" {
			t.Errorf("shadow schema differs from production (-live +shadow):\n%s", diff)
		}
		if got := records(t, tg, sdb); len(got) != 1 {
			t.Errorf("shadow history = %v, want production's one file", got)
		}
		if n := count(t, sdb, "customers"); n != 0 {
			t.Errorf("shadow customers has %d rows, want none: a shadow copies no data", n)
		}
		sdb.Close()
		if err := sh.Drop(ctx); err != nil {
			t.Fatalf("Drop = %v", err)
		}
		assertNoShadowLeft(t, tg, db)
		if opts.At != "" {
			assertEmptyDir(t, opts.At)
		}
	})
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertNoShadowLeft checks that no shadow database remains on the server
// (PostgreSQL); SQLite shadows are checked through their directory.
func assertNoShadowLeft(t *testing.T, tg target, db *sql.DB) {
	t.Helper()
	if tg.name != "postgres" {
		return
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_database WHERE datname LIKE 'bascule\_shadow\_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d shadow databases left on the server", n)
	}
}

// assertEmptyDir checks that a shadow directory holds nothing any more.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %d entries after the shadow was dropped, want none", dir, len(entries))
	}
}

func hasConstraint(t *migrate.Table, kind string) bool {
	for _, c := range t.Constraints {
		if c.Kind == kind {
			return true
		}
	}
	return false
}

func tableNames(s *migrate.Schema) []string {
	var out []string
	for _, t := range s.Tables {
		out = append(out, t.Name)
	}
	return out
}
