package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stmt is the part of a Statement these tests compare.
type stmt struct {
	Line int
	SQL  string
}

func stmts(ss []Statement) []stmt {
	var out []stmt
	for _, s := range ss {
		out = append(out, stmt{s.Line, s.SQL})
	}
	return out
}

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := ParseFile("expand/001_test.sql", []byte(src))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	return f
}

func TestParseFileSplitsStatements(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []stmt
	}{
		{"plain", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
			[]stmt{{1, "CREATE TABLE a (id int);"}, {2, "CREATE TABLE b (id int);"}}},
		{"semicolon in string", "INSERT INTO t VALUES ('a;b', 'it''s;');\nSELECT 2;",
			[]stmt{{1, "INSERT INTO t VALUES ('a;b', 'it''s;');"}, {2, "SELECT 2;"}}},
		{"escape string", "SELECT E'\\';', 1;\nSELECT 2;",
			[]stmt{{1, "SELECT E'\\';', 1;"}, {2, "SELECT 2;"}}},
		{"backslash in standard string", "SELECT 'a\\';\nSELECT 2;",
			[]stmt{{1, "SELECT 'a\\';"}, {2, "SELECT 2;"}}},
		{"quoted identifier", `CREATE TABLE "x;y" ("a""b;" int); SELECT 1;`,
			[]stmt{{1, `CREATE TABLE "x;y" ("a""b;" int);`}, {1, "SELECT 1;"}}},
		{"dollar quotes", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nDO $do$ BEGIN PERFORM '$$;'; END $do$;",
			[]stmt{{1, "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;"}, {2, "DO $do$ BEGIN PERFORM '$$;'; END $do$;"}}},
		{"positional parameter is no dollar quote", "PREPARE p AS SELECT $1; SELECT 2;",
			[]stmt{{1, "PREPARE p AS SELECT $1;"}, {1, "SELECT 2;"}}},
		{"comments", "-- lead; comment\n/* block /* nested; */ still; */ SELECT 1; -- trailing;\nSELECT /* in; */ 2;",
			[]stmt{{2, "SELECT 1;"}, {3, "SELECT /* in; */ 2;"}}},
		{"parentheses", "CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b);\nSELECT 1;",
			[]stmt{{1, "CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b);"}, {2, "SELECT 1;"}}},
		{"last statement without semicolon", "SELECT 1;\n\nSELECT 2\n-- the end\n",
			[]stmt{{1, "SELECT 1;"}, {3, "SELECT 2"}}},
		{"empty statements", ";;\n;SELECT 1;;", []stmt{{2, "SELECT 1;"}}},
		{"crlf", "SELECT 1;\r\nSELECT\r\n  2;\r\n", []stmt{{1, "SELECT 1;"}, {2, "SELECT\r\n  2;"}}},
		{"only comments", "-- nothing\n/* here */\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.src)
			if diff := cmp.Diff(tt.want, stmts(f.Statements)); diff != "" {
				t.Errorf("ParseFile(%q) statements (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestParseFileGoose(t *testing.T) {
	src := `-- +goose Up
-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY i ON t (a);
-- +goose StatementBegin
CREATE FUNCTION f() RETURNS trigger AS $$
BEGIN
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
SELECT 1;

-- +goose Down
-- +goose StatementBegin
DROP FUNCTION f();
-- +goose StatementEnd
DROP INDEX i;
`
	f := mustParse(t, src)
	wantUp := []stmt{
		{3, "CREATE INDEX CONCURRENTLY i ON t (a);"},
		{5, "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;"},
		{11, "SELECT 1;"},
	}
	if diff := cmp.Diff(wantUp, stmts(f.Statements)); diff != "" {
		t.Errorf("Up statements (-want +got):\n%s", diff)
	}
	wantDown := []stmt{{15, "DROP FUNCTION f();"}, {17, "DROP INDEX i;"}}
	if diff := cmp.Diff(wantDown, stmts(f.Down)); diff != "" {
		t.Errorf("Down statements (-want +got):\n%s", diff)
	}
	if !f.NoTransaction {
		t.Error("NoTransaction = false, want true for -- +goose NO TRANSACTION")
	}
}

func TestParseFileGooseIsCaseInsensitive(t *testing.T) {
	f := mustParse(t, "--  +goose up\n--+goose no  transaction\nSELECT 1;\n-- +GOOSE DOWN\nSELECT 2;\n")
	if len(f.Statements) != 1 || len(f.Down) != 1 || !f.NoTransaction {
		t.Errorf("got Up %v, Down %v, NoTransaction %v; want one each and true", stmts(f.Statements), stmts(f.Down), f.NoTransaction)
	}
}

func TestParseFileAllows(t *testing.T) {
	src := `-- bascule:allow drop-column nobody reads it
-- bascule:allow drop-table   spaced    reason
ALTER TABLE t DROP COLUMN a;
DROP TABLE u; -- bascule:allow truncate trailing on the same line
ALTER TABLE v
  /* bascule:allow rename-column inside
     the statement */
  RENAME COLUMN a TO b;
-- bascule:allow set-not-null
-- +goose StatementBegin
ALTER TABLE w ALTER COLUMN c SET NOT NULL;
-- +goose StatementEnd
-- bascule:allowance is not an allow
SELECT 1;
`
	f := mustParse(t, src)
	var got [][]Allow
	for _, s := range f.Statements {
		got = append(got, s.Allows)
	}
	want := [][]Allow{
		{{Rule: "drop-column", Reason: "nobody reads it", Line: 1}, {Rule: "drop-table", Reason: "spaced reason", Line: 2}},
		{{Rule: "truncate", Reason: "trailing on the same line", Line: 4}},
		{{Rule: "rename-column", Reason: "inside the statement", Line: 6}},
		{{Rule: "set-not-null", Reason: "", Line: 9}},
		nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allows per statement (-want +got):\n%s", diff)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"up twice", "-- +goose Up\nSELECT 1;\n-- +goose Up\n", 3, "-- +goose Up must come once"},
		{"sql before up", "SELECT 1;\n-- +goose Up\n", 2, "-- +goose Up must come once"},
		{"down twice", "-- +goose Down\n-- +goose Down\n", 2, "-- +goose Down must come only once"},
		{"end without begin", "-- +goose StatementEnd\n", 1, "StatementEnd without StatementBegin"},
		{"begin without end", "SELECT 1;\n-- +goose StatementBegin\nSELECT 2;\n", 2, "StatementBegin without StatementEnd"},
		{"nested begin", "-- +goose StatementBegin\n-- +goose StatementBegin\n", 2, "inside a StatementBegin block"},
		{"unknown annotation", "-- +goose ENVSUB ON\n", 1, "unsupported goose annotation"},
		{"allow without rule", "SELECT 1;\n-- bascule:allow\nSELECT 2;", 2, "needs a rule name and a reason"},
		{"allow before nothing", "SELECT 1;\n\n-- bascule:allow drop-table late\n", 3, "followed by no statement"},
		{"allow before down", "SELECT 1;\n-- bascule:allow drop-table late\n-- +goose Down\nSELECT 2;", 2, "followed by no statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("expand/001_x.sql", []byte(tt.src))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseFile(%q) error = %v, want a *ParseError", tt.src, err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) || pe.Path != "expand/001_x.sql" {
				t.Errorf("ParseFile(%q) error = %q at line %d, want %q at line %d", tt.src, err, pe.Line, tt.msg, tt.line)
			}
		})
	}
}

func TestParseFileMetadata(t *testing.T) {
	data := []byte("SELECT 1;\n")
	f, err := ParseFile("contract/0042_drop_legacy.sql", data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := File{Phase: Contract, Version: 42, Name: "drop_legacy", Path: "contract/0042_drop_legacy.sql", Checksum: hex.EncodeToString(sum[:])}
	got := *f
	got.Statements = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseFile metadata (-want +got):\n%s", diff)
	}
}

func TestParseFileNames(t *testing.T) {
	for _, name := range []string{"expand/1.sql", "expand/abc_x.sql", "expand/01_.sql", "expand/_x.sql", "other/001_x.sql", "001_x.sql", "expand/1e3_x.sql", "expand/99999999999999999999_x.sql"} {
		if _, err := ParseFile(name, nil); err == nil {
			t.Errorf("ParseFile(%q) = nil error, want a bad name error", name)
		} else if !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("ParseFile(%q) error %q does not start with the file name", name, err)
		}
	}
}
