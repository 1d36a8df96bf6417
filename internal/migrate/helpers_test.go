package migrate_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/migrate/postgres"
	"github.com/bascule/bascule/internal/migrate/sqlite"
	"github.com/bascule/bascule/internal/pgtest"
)

var pg pgtest.Shared

// execArg makes the test binary a user's migration tool: "TESTBIN
// migrate-test-exec SQL" runs SQL against $DATABASE_URL and exits, as
// `./app db:migrate` would.
const execArg = "migrate-test-exec"

// hangArg makes the test binary a bascule that dies mid-migration:
// "TESTBIN migrate-test-hang URL" applies a file whose statement runs for
// ten minutes, until the test kills it.
const hangArg = "migrate-test-hang"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == execArg {
		os.Exit(execTool(os.Args[2]))
	}
	if len(os.Args) > 2 && os.Args[1] == hangArg {
		os.Exit(hangTool(os.Args[2]))
	}
	os.Exit(pg.Run(m))
}

func execTool(sqlText string) int {
	url := os.Getenv("DATABASE_URL")
	var d migrate.Dialect = sqlite.Dialect{}
	if strings.HasPrefix(url, "postgres") {
		d = postgres.Dialect{}
	}
	ctx := context.Background()
	db, err := d.Open(ctx, url)
	if err == nil {
		defer db.Close()
		_, err = db.ExecContext(ctx, sqlText)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate tool:", err)
		return 1
	}
	fmt.Println("migrate tool: done")
	return 0
}

func hangTool(url string) int {
	ctx := context.Background()
	d := postgres.Dialect{}
	db, err := d.Open(ctx, url)
	if err == nil {
		var f *migrate.File
		f, err = migrate.ParseFile("expand/002_hang.sql", []byte("ALTER TABLE items ADD COLUMN held text;\nSELECT pg_sleep(600);\n"))
		if err == nil {
			r := &migrate.Runner{Dialect: d, StatementTimeout: time.Hour}
			_, err = r.Apply(ctx, db, []*migrate.File{f}, "v2", nil)
		}
	}
	fmt.Fprintln(os.Stderr, "hang tool:", err)
	return 1
}

// toolCommand is the argv of a user migration command that runs sqlText.
func toolCommand(t testing.TB, sqlText string) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{self, execArg, sqlText}
}

// target is one database of one dialect for one test.
type target struct {
	name string
	d    migrate.Dialect
	url  string
}

// targets returns a fresh PostgreSQL database and a fresh SQLite file.
func targets(t *testing.T) []target {
	t.Helper()
	return []target{
		{"postgres", postgres.Dialect{}, pg.NewDatabase(t)},
		{"sqlite", sqlite.Dialect{}, filepath.Join(t.TempDir(), "app.db")},
	}
}

// eachTarget runs fn as a subtest on both dialects.
func eachTarget(t *testing.T, fn func(t *testing.T, tg target)) {
	t.Helper()
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			var tg target
			if name == "postgres" {
				tg = target{name, postgres.Dialect{}, pg.NewDatabase(t)}
			} else {
				tg = target{name, sqlite.Dialect{}, filepath.Join(t.TempDir(), "app.db")}
			}
			fn(t, tg)
		})
	}
}

func (tg target) open(t testing.TB) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := tg.d.Open(ctx, tg.url)
	if err != nil {
		t.Fatalf("open %s: %v", tg.name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// exec runs statements on db, failing t on error.
func exec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// release writes a release directory holding migrations/PATH files.
func release(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, src := range files {
		full := filepath.Join(dir, migrate.MigrationsDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// parse parses migration files given as path, source pairs.
func parse(t testing.TB, pairs ...string) []*migrate.File {
	t.Helper()
	var out []*migrate.File
	for i := 0; i < len(pairs); i += 2 {
		f, err := migrate.ParseFile(pairs[i], []byte(pairs[i+1]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// columnsOf lists table's columns as "name type".
func columnsOf(t testing.TB, tg target, db *sql.DB, table string) []string {
	t.Helper()
	s, err := tg.d.Inspect(context.Background(), db)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	tb := s.Table(table)
	if tb == nil {
		return nil
	}
	var out []string
	for _, c := range tb.Columns {
		out = append(out, c.Name)
	}
	return out
}

// tableExists reports whether the schema has table.
func tableExists(t testing.TB, tg target, db *sql.DB, table string) bool {
	t.Helper()
	s, err := tg.d.Inspect(context.Background(), db)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	return s.Table(table) != nil
}

// records returns the history as "phase/version_name by release".
func records(t testing.TB, tg target, db *sql.DB) []string {
	t.Helper()
	r := &migrate.Runner{Dialect: tg.d}
	recs, err := r.History(context.Background(), db)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	var out []string
	for _, rec := range recs {
		out = append(out, fmt.Sprintf("%s/%03d_%s by %s", rec.Phase, rec.Version, rec.Name, rec.Release))
	}
	return out
}

// lines collects progress lines; safe for concurrent use.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, s)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

func (l *lines) contains(sub string) bool { return strings.Contains(l.String(), sub) }

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
