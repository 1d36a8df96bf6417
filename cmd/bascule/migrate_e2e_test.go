package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
	_ "github.com/jackc/pgx/v5/stdlib"
)

const itemsV1 = `CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    legacy_note text
);
`

// addDBRelease registers a sample-app release that reads and writes the
// items columns cols of the database at dbURL, with migration files.
func (in *instance) addDBRelease(version, dbURL string, cols []string, files map[string]string) {
	in.t.Helper()
	dir := in.t.TempDir()
	txt := fmt.Sprintf("%s\ndb_url=%s\ndb_table=items\ndb_columns=%s\n", version, dbURL, strings.Join(cols, ","))
	files["release.txt"] = txt
	for p, src := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			in.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(src), 0o644); err != nil {
			in.t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := artifact.PackDir(&buf, dir); err != nil {
		in.t.Fatal(err)
	}
	if _, _, err := in.cl.AddRelease(context.Background(), version, version+".tar.gz", "", &buf); err != nil {
		in.t.Fatalf("AddRelease(%s) = %v", version, err)
	}
}

// write inserts a row through production traffic and returns who wrote it.
func (in *instance) write(value string) string {
	in.t.Helper()
	resp, err := http.Post("http://"+in.listen+"/rows?value="+url.QueryEscape(value), "text/plain", nil)
	if err != nil {
		in.t.Fatalf("POST /rows: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		in.t.Fatalf("POST /rows?value=%s = %d %s", value, resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b))
}

// read lists the rows through production traffic, as the live release
// sees them.
func (in *instance) read() (release string, rows []string) {
	in.t.Helper()
	resp, err := http.Get("http://" + in.listen + "/rows")
	if err != nil {
		in.t.Fatalf("GET /rows: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		in.t.Fatalf("GET /rows = %d %s", resp.StatusCode, b)
	}
	return resp.Header.Get("X-Release"), strings.Fields(string(b))
}

func itemColumns(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		out = append(out, c)
	}
	return out
}

func stepMessage(d store.Deployment, name string) string {
	for _, s := range d.Steps {
		if s.Name == name {
			return s.State + ": " + s.Message
		}
	}
	return ""
}

// The end to end, on a real PostgreSQL and real processes: v1 is
// live; v2 adds a column in expand, goes live, rolls back in one click and
// v1 still reads and writes; v2's contract drops the column only v1 used
// when v2 is finalized, after which rollback is refused with the reason;
// a v2b whose expand drops a column v2 uses is stopped by the shadow diff
// and production is untouched.
func TestMigrationsEndToEnd(t *testing.T) {
	pgURL := pgtest.Start(t).NewDatabase(t)
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in := newInstance(t, fmt.Sprintf("database:\n  driver: postgres\n  url: %q\n", pgURL))
	in.start()
	ctx := context.Background()

	in.addDBRelease("v1", pgURL, []string{"name", "legacy_note"}, map[string]string{"migrations/expand/001_items.sql": itemsV1})
	if d := in.deploy("v1"); d.State != store.StateReady || !strings.Contains(stepMessage(d, "migrate"), "001_items") {
		t.Fatalf("deploy v1 ended %s (%s), migrate step %q", d.State, d.Error, stepMessage(d, "migrate"))
	}
	if _, err := in.cl.GoLive(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if got := in.write("one"); got != "v1 wrote one" {
		t.Fatalf("write through v1 = %q", got)
	}

	v2 := map[string]string{
		"migrations/expand/001_items.sql":         itemsV1,
		"migrations/expand/002_email.sql":         "ALTER TABLE items ADD COLUMN email text;\n",
		"migrations/contract/001_drop_legacy.sql": "ALTER TABLE items DROP COLUMN legacy_note;\n",
	}
	in.addDBRelease("v2", pgURL, []string{"name", "email"}, v2)
	d := in.deploy("v2")
	if d.State != store.StateReady || !strings.Contains(stepMessage(d, "migrate"), "1 expand migration applied: 002_email") {
		t.Fatalf("deploy v2 ended %s (%s), migrate step %q", d.State, d.Error, stepMessage(d, "migrate"))
	}
	if !strings.Contains(stepMessage(d, "migrate"), "shadow: expand step rehearsed") {
		t.Errorf("migrate step %q does not record the shadow rehearsal", stepMessage(d, "migrate"))
	}
	if _, err := in.cl.GoLive(ctx, "v2"); err != nil {
		t.Fatal(err)
	}
	if got := in.write("two"); got != "v2 wrote two" {
		t.Errorf("write after go-live = %q, want v2 to serve", got)
	}

	if _, err := in.cl.Rollback(ctx, "one click", false); err != nil {
		t.Fatalf("Rollback before finalize = %v, want the instant switch", err)
	}
	if got := in.write("three"); got != "v1 wrote three" {
		t.Errorf("write after rollback = %q, want v1 to write against the expanded schema", got)
	}
	rel, rows := in.read()
	if want := []string{"one|one", "three|three", "two|"}; rel != "v1" || !slices.Equal(rows, want) {
		t.Errorf("v1 reads %v (served by %s), want %v", rows, rel, want)
	}

	if _, err := in.cl.GoLive(ctx, "v2 again"); err != nil {
		t.Fatal(err)
	}
	if _, err := in.cl.Finalize(ctx, "v1 is gone for good"); err != nil {
		t.Fatalf("Finalize = %v", err)
	}
	if cols := itemColumns(t, db); slices.Contains(cols, "legacy_note") {
		t.Errorf("items columns after finalize = %v, want legacy_note dropped by v2's contract", cols)
	}
	_, err = in.cl.Rollback(ctx, "try", false)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusConflict || !strings.Contains(ce.Message, "its contract step ran (1 contract migration applied: 001_drop_legacy), removing what only v1 needed") {
		t.Errorf("Rollback after finalize = %v, want 409 saying why", err)
	}
	if got := in.write("four"); got != "v2 wrote four" {
		t.Errorf("write after the refused rollback = %q, want v2 still serving", got)
	}
	// Forced back to v1 and forward again, v2 is still finalized: rollback
	// stays refused (going live again must not forget the contract ran).
	if _, err := in.cl.Rollback(ctx, "forced", true); err != nil {
		t.Fatalf("Rollback --force = %v", err)
	}
	if _, err := in.cl.GoLive(ctx, "forward again"); err != nil {
		t.Fatal(err)
	}
	if _, err = in.cl.Rollback(ctx, "again", false); !errors.As(err, &ce) || ce.Status != http.StatusConflict {
		t.Errorf("Rollback after a forced round trip = %v, want still refused", err)
	}

	in.addDBRelease("v2b", pgURL, []string{"name"}, map[string]string{
		"migrations/expand/001_items.sql":         itemsV1,
		"migrations/expand/002_email.sql":         v2["migrations/expand/002_email.sql"],
		"migrations/expand/003_drop_email.sql":    "-- bascule:allow drop-column v2b stops writing email\nALTER TABLE items DROP COLUMN email;\n",
		"migrations/contract/001_drop_legacy.sql": v2["migrations/contract/001_drop_legacy.sql"],
	})
	d = in.deploy("v2b")
	if d.State != store.StateFailed || !strings.Contains(d.Error, "column items.email is gone") || !strings.Contains(d.Error, "production is untouched") {
		t.Fatalf("deploy v2b ended %s: %q; want the shadow diff to refuse it", d.State, d.Error)
	}
	if cols := itemColumns(t, db); !slices.Contains(cols, "email") {
		t.Errorf("items columns after the refused v2b = %v, want email still there", cols)
	}
	if rel, rows := in.read(); rel != "v2" || !slices.Contains(rows, "four|four") {
		t.Errorf("after the refused v2b, production reads %v through %s, want v2 serving its rows", rows, rel)
	}

	out, code := runCLI(t, in, "migrate", "status")
	for _, want := range []string{"applied to the postgres database", "expand    001_items", "contract  001_drop_legacy",
		"pending in release v2b", "expand/003_drop_email.sql"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("migrate status lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	out, code = runCLI(t, in, "migrate", "lint", "--release", "v2b")
	if code != 0 || !strings.Contains(out, "expand/003_drop_email.sql:2: allowed drop-column") {
		t.Errorf("migrate lint --release v2b = exit %d:\n%s", code, out)
	}
}
