package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseFile checks that the parser never panics and that, when it
// accepts a file, its statements are the file's own text: each starts at
// its Offset on its Line, they come in order, and everything between them
// is blanks, semicolons and comments. Concatenating the statements thus
// reproduces all the SQL that is not a comment.
func FuzzParseFile(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*", "*.sql"))
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"SELECT 'a;b'; SELECT E'\\';'; SELECT $x$ ; $x$; SELECT $1;",
		"/* /* nested */ ; */ SELECT 1 -- c;\n;",
		"-- +goose Up\n-- +goose StatementBegin\nSELECT 1; SELECT 2;\n-- +goose StatementEnd\n-- +goose Down\nSELECT 3;",
		"SELECT (1;2); SELECT ')';",
		"SELECT 'unterminated",
		"SELECT $$unterminated",
		"-- bascule:allow drop-table why\nDROP TABLE t; -- bascule:allow truncate x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile("expand/001_fuzz.sql", data)
		if err != nil {
			return
		}
		checkStatementsCoverFile(t, string(data), append(file.Statements, file.Down...))
	})
}

func checkStatementsCoverFile(t *testing.T, src string, stmts []Statement) {
	t.Helper()
	lines := strings.Count(src, "\n") + 1
	cursor := 0
	for i, s := range stmts {
		if s.SQL == "" || s.Offset < cursor || s.Offset+len(s.SQL) > len(src) {
			t.Fatalf("statement %d %q at offset %d: empty, out of order or past the end (cursor %d, file %d bytes)", i, s.SQL, s.Offset, cursor, len(src))
		}
		if got := src[s.Offset : s.Offset+len(s.SQL)]; got != s.SQL {
			t.Fatalf("statement %d is %q, but the file has %q at offset %d", i, s.SQL, got, s.Offset)
		}
		if want := strings.Count(src[:s.Offset], "\n") + 1; s.Line != want || s.Line > lines {
			t.Fatalf("statement %d %q: Line = %d, want %d (file has %d lines)", i, s.SQL, s.Line, want, lines)
		}
		if rest := ignorable(src[cursor:s.Offset]); rest != "" {
			t.Fatalf("SQL %q before statement %d %q is in no statement", rest, i, s.SQL)
		}
		for _, a := range s.Allows {
			if a.Line < 1 || a.Line > lines || a.Rule == "" {
				t.Fatalf("statement %d: allow %+v out of the file or without rule", i, a)
			}
		}
		cursor = s.Offset + len(s.SQL)
	}
	if rest := ignorable(src[cursor:]); rest != "" {
		t.Fatalf("SQL %q after the last statement is in no statement", rest)
	}
}

// ignorable returns what in s is not blanks, semicolons or comments: "" when
// s holds no SQL. It is written apart from the parser's lexer on purpose.
func ignorable(s string) string {
	for s != "" {
		switch {
		case strings.ContainsRune(" \t\r\n\f\v;", rune(s[0])):
			s = s[1:]
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i:]
			} else {
				s = ""
			}
		case strings.HasPrefix(s, "/*"):
			depth, i := 0, 0
			for i < len(s) {
				if strings.HasPrefix(s[i:], "/*") {
					depth, i = depth+1, i+2
				} else if strings.HasPrefix(s[i:], "*/") {
					depth, i = depth-1, i+2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			s = s[i:]
		default:
			return s
		}
	}
	return ""
}

// FuzzLint checks that no statement the parser accepts makes a rule panic,
// and that every finding points into the file.
func FuzzLint(f *testing.F) {
	for _, s := range []string{
		"ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT random(), ADD CONSTRAINT k UNIQUE (c);",
		"CREATE TABLE t (id int); CREATE INDEX ON t (id); DROP INDEX i; REINDEX (CONCURRENTLY) TABLE t;",
		"ALTER TABLE t RENAME COLUMN a TO b; TRUNCATE a, b; DROP TABLE x, y;",
		"-- bascule:allow drop-table\nDROP TABLE t;",
		"SET lock_timeout = '1min'; RESET ALL; SELECT set_config('statement_timeout', '0', false);",
		"DO $$\nBEGIN\n  IF true THEN\n    ALTER TABLE u RENAME COLUMN a TO b;\n  END IF;\n  EXECUTE 'DROP TABLE x';\nEND\n$$;",
		"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE t; END $$;",
		"UPDATE t SET a = 1; LOCK TABLE t; DELETE FROM t; CLUSTER t; VACUUM FULL t; REFRESH MATERIALIZED VIEW v;",
		"ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID; CREATE UNIQUE INDEX i ON t (a); ALTER TYPE e RENAME VALUE 'a' TO 'b';",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile("expand/001_fuzz.sql", data)
		if err != nil {
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, fd := range Lint(&Set{Expand: []*File{file}}).Findings {
			if fd.Line < 1 || fd.Line > lines || fd.Message == "" {
				t.Fatalf("finding %+v is outside the %d-line file or says nothing", fd, lines)
			}
		}
	})
}
