package sampleapp

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

// DB makes the app read and write one table of a database, the way a real
// release depends on its schema: each release knows its own columns, so a
// migration that removes one of them breaks the release that still uses
// it. The demo and the migration tests use it. The zero value (no URL)
// leaves the database out.
type DB struct {
	// URL is a postgres:// URL, or the path of a SQLite file (optionally
	// "file:PATH").
	URL   string
	Table string
	// Columns are the text columns this release writes and reads.
	Columns []string
}

// rows serves the table: POST /rows?value=V inserts a row whose every
// column is V, GET /rows lists the rows as "a|b" lines, sorted. A database error answers 500 with its message, as an app whose
// schema changed under it would fail.
type rows struct {
	release string
	cfg     DB
	once    sync.Once
	db      *sql.DB
	err     error
}

func (t *rows) open() (*sql.DB, error) {
	t.once.Do(func() {
		if strings.HasPrefix(t.cfg.URL, "postgres://") || strings.HasPrefix(t.cfg.URL, "postgresql://") {
			t.db, t.err = sql.Open("pgx", t.cfg.URL)
			return
		}
		path := strings.TrimPrefix(t.cfg.URL, "file:")
		t.db, t.err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	})
	return t.db, t.err
}

func (t *rows) placeholder(n int) string {
	if strings.HasPrefix(t.cfg.URL, "postgres") {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (t *rows) insert(w http.ResponseWriter, r *http.Request) {
	db, err := t.open()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	v := r.URL.Query().Get("value")
	q, args := t.insertSQL(v)
	if _, err := db.ExecContext(r.Context(), q, args...); err != nil {
		http.Error(w, t.release+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Release", t.release)
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "%s wrote %s\n", t.release, v)
}

func (t *rows) list(w http.ResponseWriter, r *http.Request) {
	db, err := t.open()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cols := len(t.cfg.Columns)
	res, err := db.QueryContext(r.Context(), t.listSQL())
	if err != nil {
		http.Error(w, t.release+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer res.Close()
	var out []string
	for res.Next() {
		vals := make([]string, cols)
		ptrs := make([]any, cols)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := res.Scan(ptrs...); err != nil {
			http.Error(w, t.release+": "+err.Error(), http.StatusInternalServerError)
			return
		}
		out = append(out, strings.Join(vals, "|"))
	}
	if err := res.Err(); err != nil {
		http.Error(w, t.release+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Release", t.release)
	for _, l := range out {
		fmt.Fprintln(w, l)
	}
}

// insertSQL is the statement that writes a row whose every column is v.
func (t *rows) insertSQL(v string) (string, []any) {
	cols, marks, args := make([]string, len(t.cfg.Columns)), make([]string, len(t.cfg.Columns)), make([]any, len(t.cfg.Columns))
	for i, c := range t.cfg.Columns {
		cols[i], marks[i], args[i] = quoteIdent(c), t.placeholder(i+1), v
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", quoteIdent(t.cfg.Table), strings.Join(cols, ", "), strings.Join(marks, ", ")), args
}

// listSQL is the statement that reads every row.
func (t *rows) listSQL() string {
	cols := make([]string, len(t.cfg.Columns))
	for i, c := range t.cfg.Columns {
		cols[i] = "coalesce(" + quoteIdent(c) + ", '')"
	}
	return fmt.Sprintf("SELECT %s FROM %s ORDER BY 1", strings.Join(cols, ", "), quoteIdent(t.cfg.Table))
}
