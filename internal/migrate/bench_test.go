package migrate

import (
	"fmt"
	"testing"
)

// realisticExpand returns the i-th of a release's expand files against a
// 50-table schema: new tables with their indexes, nullable columns, NOT
// VALID constraints and their validation, concurrent indexes, a function,
// data backfills, and one finding in four files.
func realisticExpand(i int) (string, string) {
	table := fmt.Sprintf("table_%02d", i%50)
	var src string
	switch i % 4 {
	case 0:
		src = fmt.Sprintf(`-- +goose Up
CREATE TABLE audit_%[1]d (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    %[2]s_id bigint NOT NULL REFERENCES %[2]s (id),
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_%[1]d_ref_idx ON audit_%[1]d (%[2]s_id);
ALTER TABLE %[2]s ADD COLUMN audit_%[1]d_id bigint;
ALTER TABLE %[2]s ADD CONSTRAINT %[2]s_audit_%[1]d_fk FOREIGN KEY (audit_%[1]d_id) REFERENCES audit_%[1]d (id) NOT VALID;

-- +goose Down
DROP TABLE audit_%[1]d;
`, i, table)
	case 1:
		src = fmt.Sprintf(`-- +goose Up
-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY IF NOT EXISTS %[1]s_created_at_idx ON %[1]s (created_at);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %[1]s_ref_key ON %[1]s (lower(reference)) WHERE deleted_at IS NULL;
`, table)
	case 2:
		src = fmt.Sprintf(`ALTER TABLE %[1]s VALIDATE CONSTRAINT %[1]s_audit_%[2]d_fk;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION %[1]s_touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
UPDATE %[1]s SET status = 'active' WHERE status IS NULL AND id IN (SELECT id FROM %[1]s WHERE status IS NULL LIMIT 1000);
`, table, i-2)
	default:
		src = fmt.Sprintf(`ALTER TABLE %[1]s ADD COLUMN region text NOT NULL DEFAULT 'eu', ADD COLUMN note text;
ALTER TABLE %[1]s ADD CONSTRAINT %[1]s_amount_check CHECK (amount >= 0) NOT VALID;
CREATE INDEX %[1]s_region_idx ON %[1]s (region);
INSERT INTO settings (key, value) VALUES ('%[1]s', 'on') ON CONFLICT (key) DO NOTHING;
`, table)
	}
	return fmt.Sprintf("expand/%03d_step_%d.sql", i+1, i), src
}

func benchSet(b *testing.B) *Set {
	set := &Set{}
	for i := range 20 {
		path, src := realisticExpand(i)
		f, err := ParseFile(path, []byte(src))
		if err != nil {
			b.Fatal(err)
		}
		set.Expand = append(set.Expand, f)
	}
	return set
}

// BenchmarkLint20Files lints a 20-file expand step, the linter's share of a
// deployment gate (goal: well under one second).
func BenchmarkLint20Files(b *testing.B) {
	set := benchSet(b)
	if r := Lint(set); len(r.Findings) != 5 {
		b.Fatalf("Lint found %d findings, want the 5 planted index builds", len(r.Findings))
	}
	b.ReportAllocs()
	for b.Loop() {
		Lint(set)
	}
}

// BenchmarkParseFile20Files parses the same 20 files, which a runner does
// on every deployment even without the linter.
func BenchmarkParseFile20Files(b *testing.B) {
	var files [][2]string
	for i := range 20 {
		path, src := realisticExpand(i)
		files = append(files, [2]string{path, src})
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			if _, err := ParseFile(f[0], []byte(f[1])); err != nil {
				b.Fatal(err)
			}
		}
	}
}
