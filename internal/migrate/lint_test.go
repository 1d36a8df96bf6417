package migrate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lintOne lints a release whose only migration is src at path.
func lintOne(t *testing.T, path, src string) Report {
	t.Helper()
	f, err := ParseFile(path, []byte(src))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	set := &Set{}
	if f.Phase == Expand {
		set.Expand = []*File{f}
	} else {
		set.Contract = []*File{f}
	}
	return Lint(set)
}

// brief is the part of a finding that the tests below compare.
type brief struct {
	Line int
	Rule string
}

func briefs(r Report) []brief {
	var out []brief
	for _, f := range r.Findings {
		out = append(out, brief{f.Line, f.Rule})
	}
	return out
}

func TestLintFindingLines(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []brief
	}{
		{"second statement of a block", "-- +goose StatementBegin\nSELECT 1;\n\n  -- why\n  DROP TABLE t;\n-- +goose StatementEnd\n",
			[]brief{{5, RuleDropTable}}},
		{"parse error after multibyte text", "SELECT 'héllo wörld',\n  FROM WHERE;\n",
			[]brief{{2, RuleParseError}}},
		{"several findings on one statement", "ALTER TABLE t\n  DROP COLUMN a,\n  ALTER COLUMN b TYPE int;\n",
			[]brief{{1, RuleDropColumn}, {1, RuleChangeColumnType}}},
		{"down is never linted", "-- +goose Up\nSELECT 1;\n-- +goose Down\nDROP TABLE t;\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := briefs(lintOne(t, "expand/001_x.sql", tt.src))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lint(%q) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestLintNewTableNames(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []brief
	}{
		{"schema qualified", "CREATE TABLE app.t (id int);\nCREATE INDEX ON app.t (id);\nCREATE INDEX ON t (id);\n",
			[]brief{{3, RuleCreateIndexNonConcurrently}}},
		{"public is the default schema", "CREATE TABLE public.t (id int);\nCREATE INDEX i ON t (id);\nDROP INDEX public.i;\n", nil},
		{"renamed new table stays new", "CREATE TABLE a (id int);\nALTER TABLE a RENAME TO b;\nALTER TABLE b ADD COLUMN c int NOT NULL;\n", nil},
		{"index on an existing table is not new", "CREATE TABLE a (id int);\n-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY i ON old (id);\nDROP INDEX i;\n",
			[]brief{{4, RuleDropIndexNonConcurrently}}},
		{"volatile default nested in an expression", "ALTER TABLE t ADD COLUMN r int DEFAULT (random() * 100)::int;\n",
			[]brief{{1, RuleAddColumnVolatileDefault}}},
		{"identity column", "ALTER TABLE t ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;\n",
			[]brief{{1, RuleAddColumnVolatileDefault}}},
		{"inline unique and reference", "ALTER TABLE t ADD COLUMN e text UNIQUE, ADD COLUMN o int REFERENCES other (id);\n",
			[]brief{{1, RuleAddUniqueOrPrimaryKey}, {1, RuleAddConstraintWithoutNotValid}}},
		{"detach partition concurrently", "ALTER TABLE p DETACH PARTITION p_2020 CONCURRENTLY;\n",
			[]brief{{1, RuleConcurrentlyInTransaction}, {1, RuleDetachPartition}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := briefs(lintOne(t, "expand/001_x.sql", tt.src))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lint(%q) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestLintTablesFromExpandAreNotNewInContract(t *testing.T) {
	exp, _ := ParseFile("expand/001_t.sql", []byte("CREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);\n"))
	con, _ := ParseFile("contract/001_t.sql", []byte("CREATE INDEX t_id2 ON t (id);\n"))
	got := briefs(Lint(&Set{Expand: []*File{exp}, Contract: []*File{con}}))
	want := []brief{{1, RuleCreateIndexNonConcurrently}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lint (-want +got):\n%s", diff)
	}
}

func TestReportHasErrors(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"ALTER TABLE t ADD COLUMN c text;", false},
		{"ALTER TABLE t ALTER COLUMN c DROP NOT NULL;", false},
		{"-- bascule:allow drop-table archived in v3\nDROP TABLE t;", false},
		{"-- bascule:allow drop-table\nDROP TABLE t;", true},
		{"DROP TABLE t;", true},
		{"SELEC 1;", true},
	}
	for _, tt := range tests {
		if got := lintOne(t, "expand/001_x.sql", tt.src).HasErrors(); got != tt.want {
			t.Errorf("Lint(%q).HasErrors() = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestReportWriteText(t *testing.T) {
	r := lintOne(t, "expand/003_idx.sql", "-- orders by customer\n\n\nCREATE INDEX orders_customer_idx\n    ON orders (customer_id);\n")
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	want := `expand/003_idx.sql:4: error create-index-non-concurrently: CREATE INDEX locks writes to "orders" for the whole build
  fix: CREATE INDEX CONCURRENTLY … in a file marked -- +goose NO TRANSACTION
1 file checked: 1 error, 0 warnings, 0 allowed
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}
}

func TestReportWriteJSON(t *testing.T) {
	r := lintOne(t, "expand/001_x.sql", "-- bascule:allow truncate cache only\nTRUNCATE cache;\nALTER TABLE t ALTER COLUMN c DROP NOT NULL;\n")
	var out bytes.Buffer
	if err := r.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Files, Errors, Warnings, Allowed int
		Findings                         []map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON: %v\n%s", err, out.String())
	}
	if got.Files != 1 || got.Errors != 0 || got.Warnings != 1 || got.Allowed != 1 || len(got.Findings) != 2 {
		t.Fatalf("WriteJSON counts = %+v, want 1 file, 0 errors, 1 warning, 1 allowed, 2 findings", got)
	}
	first := got.Findings[0]
	if first["file"] != "expand/001_x.sql" || first["line"] != 2.0 || first["rule"] != "truncate" ||
		first["allowed"] != true || first["allow_reason"] != "cache only" || first["severity"] != "error" {
		t.Errorf("first finding = %v, want the allowed truncate on expand/001_x.sql:2", first)
	}

	out.Reset()
	if err := (Report{}).WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"findings": []`) {
		t.Errorf("WriteJSON of an empty report = %s, want \"findings\": []", out.String())
	}
}

// A file may lower bascule's timeouts but not lift them: the limit is the
// configured one.
func TestLintSetTimeoutAgainstTheConfiguredLimits(t *testing.T) {
	limits := Limits{LockTimeout: 2 * time.Second, StatementTimeout: time.Hour}
	tests := []struct {
		src  string
		want bool
	}{
		{"SET lock_timeout = '1s';", false},
		{"SET lock_timeout = 2000;", false},
		{"SET lock_timeout = '3s';", true},
		{"SET lock_timeout TO '2.5s';", true},
		{"SET LOCAL lock_timeout = 0;", true},
		{"SET statement_timeout = '45min';", false},
		{"SET statement_timeout = '2h';", true},
		{"SET statement_timeout = '1d';", true},
		{"SET statement_timeout TO DEFAULT;", true},
		{"RESET ALL;", true},
		{"SET idle_in_transaction_session_timeout = 0;", false},
		{"SELECT pg_catalog.set_config('lock_timeout', '0', true);", true},
		{"SELECT set_config('search_path', '', false);", false},
	}
	for _, tt := range tests {
		f, err := ParseFile("expand/001_x.sql", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		rep := LintWith(&Set{Expand: []*File{f}}, LintOptions{Limits: limits})
		if got := len(rep.Findings) == 1 && rep.Findings[0].Rule == RuleSetTimeout; got != tt.want {
			t.Errorf("LintWith(%q) = %v, want a set-timeout finding: %v", tt.src, briefs(rep), tt.want)
		}
	}
}

func TestPgDuration(t *testing.T) {
	tests := map[string]time.Duration{"0": 0, "500": 500 * time.Millisecond, "1.5s": 1500 * time.Millisecond,
		"2min": 2 * time.Minute, "1h": time.Hour, "250us": 250 * time.Microsecond, " 3 s": 3 * time.Second}
	for in, want := range tests {
		if got, ok := pgDuration(in); !ok || got != want {
			t.Errorf("pgDuration(%q) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "DEFAULT", "5 fortnights", "s"} {
		if _, ok := pgDuration(in); ok {
			t.Errorf("pgDuration(%q) ok, want refused", in)
		}
	}
}

// PerFile: a table an earlier file created is an existing table for the
// later ones, as when the earlier file belongs to an earlier release.
func TestLintPerFile(t *testing.T) {
	var files []*File
	for _, p := range [][2]string{
		{"expand/001_t.sql", "CREATE TABLE t (id int, a text);\n"},
		{"expand/002_drop.sql", "ALTER TABLE t DROP COLUMN a;\n"},
	} {
		f, err := ParseFile(p[0], []byte(p[1]))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	set := &Set{Expand: files}
	if got := briefs(LintWith(set, LintOptions{})); len(got) != 0 {
		t.Errorf("LintWith(one release) = %v, want nothing: t is new in it", got)
	}
	if diff := cmp.Diff([]brief{{1, RuleDropColumn}}, briefs(LintWith(set, LintOptions{PerFile: true}))); diff != "" {
		t.Errorf("LintWith(PerFile) (-want +got):\n%s", diff)
	}
}

// With the live schema known, a type change that only widens is not a
// rewrite; anything else still is, and offline every type change is.
func TestLintTypeChangeAgainstTheLiveSchema(t *testing.T) {
	live := &Schema{Tables: []Table{{Name: "users", Columns: []Column{
		{Name: "name", Type: "character varying(100)"}, {Name: "bio", Type: "text"},
		{Name: "price", Type: "numeric(10,2)"}, {Name: "code", Type: "character(3)"},
	}}, {Name: "recent", View: true, Columns: []Column{{Name: "id", Type: "integer"}}}}}
	tests := []struct {
		alter string
		safe  bool
	}{
		{"ALTER COLUMN name TYPE varchar(200)", true},
		{"ALTER COLUMN name TYPE varchar(100)", true},
		{"ALTER COLUMN name TYPE character varying", true},
		{"ALTER COLUMN name TYPE text", true},
		{"ALTER COLUMN name TYPE varchar(50)", false},
		{"ALTER COLUMN name TYPE varchar(200) USING upper(name)", false},
		{"ALTER COLUMN name TYPE varchar(200) COLLATE \"C\"", false},
		{"ALTER COLUMN name TYPE varchar(200)[]", false},
		{"ALTER COLUMN bio TYPE varchar(200)", false},
		{"ALTER COLUMN price TYPE numeric(12,2)", true},
		{"ALTER COLUMN price TYPE numeric", true},
		{"ALTER COLUMN price TYPE numeric(12,3)", false},
		{"ALTER COLUMN price TYPE numeric(8,2)", false},
		{"ALTER COLUMN code TYPE text", false},
		{"ALTER COLUMN missing TYPE text", false},
	}
	for _, tt := range tests {
		f, err := ParseFile("expand/001_x.sql", []byte("ALTER TABLE users "+tt.alter+";"))
		if err != nil {
			t.Fatal(err)
		}
		set := &Set{Expand: []*File{f}}
		got := len(LintWith(set, LintOptions{Schema: live}).Findings) == 0
		if got != tt.safe {
			t.Errorf("LintWith(%s, live schema): safe = %v, want %v", tt.alter, got, tt.safe)
		}
		if len(Lint(set).Findings) == 0 {
			t.Errorf("Lint(%s) offline found nothing, want change-column-type", tt.alter)
		}
	}
	f, _ := ParseFile("expand/001_x.sql", []byte("DROP VIEW gone_already;\nDROP VIEW recent;\n"))
	if diff := cmp.Diff([]brief{{2, RuleDropView}}, briefs(LintWith(&Set{Expand: []*File{f}}, LintOptions{Schema: live}))); diff != "" {
		t.Errorf("DROP VIEW with the live schema (-want +got):\n%s", diff)
	}
}
