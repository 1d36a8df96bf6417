package sampleapp

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// Compat writes and reads the table as the app does and leaves nothing
// behind; a schema that refuses the app's writes fails it with the
// database's reason.
func TestCompat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT CHECK (email IS NOT NULL))`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out bytes.Buffer
	v1 := Options{Release: "v1", DB: DB{URL: path, Table: "items", Columns: []string{"name"}}}
	if err := Compat(ctx, v1, &out); err == nil || !strings.Contains(err.Error(), "v1 cannot write to items") || !strings.Contains(err.Error(), "CHECK") {
		t.Errorf("Compat(v1, which leaves email NULL) = %v, want the check constraint's refusal", err)
	}
	v2 := Options{Release: "v2", DB: DB{URL: path, Table: "items", Columns: []string{"name", "email"}}}
	if err := Compat(ctx, v2, &out); err != nil || !strings.Contains(out.String(), "v2 writes and reads items") {
		t.Errorf("Compat(v2) = %v, %q; want it to pass", err, out.String())
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM items").Scan(&n); err != nil || n != 0 {
		t.Errorf("items holds %d rows (%v) after the checks, want none", n, err)
	}
}
