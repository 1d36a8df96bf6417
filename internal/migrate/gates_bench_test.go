package migrate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/migrate/postgres"
)

// benchSchema is a 50-table production schema: each table with an
// identity key, a self reference, defaults, a unique and a plain index.
func benchSchema() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE settings (key text PRIMARY KEY, value text);\n")
	for i := range 50 {
		fmt.Fprintf(&b, `CREATE TABLE table_%02[1]d (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference text NOT NULL,
    status text,
    amount numeric(12,2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    deleted_at timestamptz,
    parent_id bigint REFERENCES table_%02[1]d (id)
);
CREATE UNIQUE INDEX table_%02[1]d_reference_key ON table_%02[1]d (reference);
CREATE INDEX table_%02[1]d_created_at_idx ON table_%02[1]d (created_at);
`, i)
	}
	return b.String()
}

// benchMigration is the i-th file of a 20-file expand step: new tables,
// concurrent indexes, checked columns, trigger functions with backfills
// and the validation of the previous file's constraint.
func benchMigration(i int) (string, string) {
	t := fmt.Sprintf("table_%02d", i*2%50)
	var src string
	switch i % 4 {
	case 0:
		src = fmt.Sprintf(`CREATE TABLE audit_%[1]d (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref_id bigint NOT NULL REFERENCES %[2]s (id),
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_%[1]d_ref_idx ON audit_%[1]d (ref_id);
`, i, t)
	case 1:
		src = fmt.Sprintf("-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY IF NOT EXISTS %[1]s_status_idx ON %[1]s (status) WHERE deleted_at IS NULL;\n", t)
	case 2:
		src = fmt.Sprintf(`ALTER TABLE %[1]s ADD COLUMN region text NOT NULL DEFAULT 'eu', ADD COLUMN note text;
ALTER TABLE %[1]s ADD CONSTRAINT %[1]s_amount_check CHECK (amount >= 0) NOT VALID;
INSERT INTO settings (key, value) VALUES ('%[1]s', 'on') ON CONFLICT (key) DO NOTHING;
`, t)
	default:
		src = fmt.Sprintf(`-- +goose StatementBegin
CREATE OR REPLACE FUNCTION %[1]s_touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER %[1]s_touch BEFORE UPDATE ON %[1]s FOR EACH ROW EXECUTE FUNCTION %[1]s_touch();
UPDATE %[1]s SET status = 'active' WHERE status IS NULL;
ALTER TABLE %[2]s VALIDATE CONSTRAINT %[2]s_amount_check;
`, t, fmt.Sprintf("table_%02d", (i-1)*2%50))
	}
	return fmt.Sprintf("expand/%03d_step_%d.sql", i+1, i), src
}

// BenchmarkGates measures what the gates add to a deployment of a
// 20-migration release against a 50-table PostgreSQL schema: the lint,
// and the shadow replay (create the shadow database, copy the schema,
// replay the 20 files, inspect both schemas, diff, drop the shadow).
// Goals: lint under 1 s, shadow under 3 s.
func BenchmarkGates(b *testing.B) {
	tg := target{"postgres", postgres.Dialect{}, pg.NewDatabase(b)}
	db := tg.open(b)
	exec(b, db, benchSchema())
	files := map[string]string{}
	var pairs []string
	for i := range 20 {
		p, src := benchMigration(i)
		files[p] = src
		pairs = append(pairs, p, src)
	}
	dir := release(b, files)
	set, _, err := migrate.LoadRelease(dir)
	if err != nil {
		b.Fatal(err)
	}
	if rep := migrate.Lint(set); rep.HasErrors() {
		b.Fatalf("the benchmark's release has lint errors: %+v", rep.Findings)
	}
	m := migrate.New(migrate.Options{Dialect: tg.d, URL: tg.url})
	ctx := context.Background()
	b.Run("lint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			migrate.Lint(set)
		}
	})
	b.Run("shadow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := migrate.RehearseForTest(ctx, m, db, "v2", dir, parse(b, pairs...), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
