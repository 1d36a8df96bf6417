package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/google/go-cmp/cmp"
)

// v1 of the app: items, with a column only v1 uses.
var v1Files = map[string]string{"expand/001_items.sql": itemsSQL}

// migrator returns a Migrator for tg whose shadows go to a directory the
// test checks (SQLite) or the test server (PostgreSQL).
func migrator(t *testing.T, tg target, o migrate.Options) (*migrate.Migrator, string) {
	t.Helper()
	o.Dialect, o.URL = tg.d, tg.url
	if tg.name == "sqlite" && o.ShadowURL == "" {
		o.ShadowURL = t.TempDir()
	}
	return migrate.New(o), o.ShadowURL
}

func expand(t *testing.T, m *migrate.Migrator, version string, files map[string]string) (string, *lines, error) {
	t.Helper()
	var progress lines
	summary, err := m.Expand(context.Background(), version, release(t, files), progress.add)
	return summary, &progress, err
}

// withFiles returns v1's files plus more.
func withFiles(more map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range v1Files {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

func TestExpandAppliesAfterTheGates(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		m, _ := migrator(t, tg, migrate.Options{})
		summary, _, err := expand(t, m, "v1", v1Files)
		if err != nil || summary != "1 expand migration applied: 001_items" {
			t.Fatalf("Expand(v1) = %q, %v", summary, err)
		}
		v2 := withFiles(map[string]string{
			"expand/002_email.sql":    "ALTER TABLE items ADD COLUMN email text;\n",
			"expand/003_orders.sql":   "CREATE TABLE orders (id integer PRIMARY KEY, item_id integer REFERENCES items (id));\n",
			"contract/001_legacy.sql": "ALTER TABLE items DROP COLUMN legacy_note;\n",
		})
		summary, progress, err := expand(t, m, "v2", v2)
		if err != nil {
			t.Fatalf("Expand(v2) = %v\n%s", err, progress)
		}
		if want := "2 expand migrations applied: 002_email, 003_orders"; summary != want {
			t.Errorf("Expand(v2) summary = %q, want %q", summary, want)
		}
		for _, want := range []string{"shadow: expand step rehearsed on", "1 table, 1 column added", "applied expand/003_orders.sql"} {
			if !progress.contains(want) {
				t.Errorf("progress lacks %q:\n%s", want, progress)
			}
		}
		db := tg.open(t)
		if got := columnsOf(t, tg, db, "items"); !slicesContain(got, "legacy_note") || !slicesContain(got, "email") {
			t.Errorf("items columns after expand = %v, want legacy_note kept and email added", got)
		}
		summary, _, err = expand(t, m, "v2", v2)
		if err != nil || !strings.HasPrefix(summary, "expand migrations up to date") {
			t.Errorf("Expand(v2) again = %q, %v; want up to date", summary, err)
		}
		var progress2 lines
		summary, err = m.Contract(context.Background(), "v2", release(t, v2), progress2.add)
		if err != nil || summary != "1 contract migration applied: 001_legacy" {
			t.Fatalf("Contract(v2) = %q, %v", summary, err)
		}
		if got := columnsOf(t, tg, db, "items"); slicesContain(got, "legacy_note") {
			t.Errorf("items columns after contract = %v, want legacy_note dropped", got)
		}
		want := []string{"expand/001_items by v1", "expand/002_email by v2", "expand/003_orders by v2", "contract/001_legacy by v2"}
		got := records(t, tg, db)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}

func TestExpandWithoutMigrations(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		m, _ := migrator(t, tg, migrate.Options{})
		if summary, _, err := expand(t, m, "v1", nil); err != nil || summary != "no migrations" {
			t.Errorf("Expand of a release without migrations/ = %q, %v; want no migrations", summary, err)
		}
		summary, err := m.Contract(context.Background(), "v1", release(t, v1Files), nil)
		if err != nil || summary != "no contract migrations" {
			t.Errorf("Contract without contract files = %q, %v", summary, err)
		}
	})
}

// A lint error refuses the release before anything touches production;
// an accepted finding goes to the record with its reason.
func TestExpandLintGate(t *testing.T) {
	tg := targetsFor(t)[0] // the locking rules are PostgreSQL's
	m, _ := migrator(t, tg, migrate.Options{})
	if _, _, err := expand(t, m, "v1", v1Files); err != nil {
		t.Fatal(err)
	}
	_, _, err := expand(t, m, "v2", withFiles(map[string]string{
		"expand/002_drop.sql": "ALTER TABLE items DROP COLUMN legacy_note;\n"}))
	var le *migrate.LintError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "expand/002_drop.sql:1: drop-column") {
		t.Fatalf("Expand with a DROP COLUMN = %v, want a lint error naming expand/002_drop.sql:1", err)
	}
	db := tg.open(t)
	if got := records(t, tg, db); len(got) != 1 {
		t.Errorf("history after the refusal = %v, want v1's file only", got)
	}
	summary, progress, err := expand(t, m, "v2", withFiles(map[string]string{
		"expand/002_idx.sql": "-- bascule:allow create-index-non-concurrently items holds ten rows\nCREATE INDEX items_name_idx ON items (name);\n"}))
	if err != nil {
		t.Fatalf("Expand with an allowed finding = %v", err)
	}
	want := "1 expand migration applied: 002_idx; lint: 1 finding accepted: expand/002_idx.sql:2 create-index-non-concurrently (items holds ten rows)"
	if summary != want {
		t.Errorf("summary = %q\nwant      %q", summary, want)
	}
	if !progress.contains("lint: expand/002_idx.sql:2 create-index-non-concurrently accepted: items holds ten rows") {
		t.Errorf("progress does not record the accepted finding with its reason:\n%s", progress)
	}
}

// Contract gets only the locking rules: dropping is its job, locking
// production is not.
func TestContractLintsLockingRulesOnly(t *testing.T) {
	tg := targetsFor(t)[0]
	m, _ := migrator(t, tg, migrate.Options{})
	if _, _, err := expand(t, m, "v1", v1Files); err != nil {
		t.Fatal(err)
	}
	_, err := m.Contract(context.Background(), "v2", release(t, withFiles(map[string]string{
		"contract/001_idx.sql": "CREATE INDEX items_name_idx ON items (name);\n"})), nil)
	var le *migrate.LintError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "create-index-non-concurrently") {
		t.Errorf("Contract with a locking index build = %v, want a lint error", err)
	}
}

// The expand step breaks the live release in a way the lint was told to
// accept: the shadow replay still stops it, and production is untouched.
func TestShadowStopsWhatTheLintAccepted(t *testing.T) {
	cases := []struct {
		name, file string
		want       brief
	}{
		{"drop column", "-- bascule:allow drop-column v2 no longer reads it\nALTER TABLE items DROP COLUMN legacy_note;\n",
			brief{migrate.ColumnGone, "items", "legacy_note", ""}},
		{"rename column", "-- bascule:allow rename-column nicer name\nALTER TABLE items RENAME COLUMN legacy_note TO note;\n",
			brief{migrate.ColumnRenamed, "items", "legacy_note", "note"}},
		{"rename table", "-- bascule:allow rename-table nicer name\nALTER TABLE items RENAME TO products;\n",
			brief{migrate.TableRenamed, "items", "", "products"}},
		{"type change", "-- bascule:allow change-column-type bigger ids\nALTER TABLE items ALTER COLUMN id TYPE bigint;\n",
			brief{migrate.TypeChanged, "items", "id", "bigint"}},
		{"not null without default", "-- bascule:allow add-column-not-null-without-default the table is empty\nALTER TABLE items ADD COLUMN sku text NOT NULL;\n",
			brief{migrate.NotNullWithoutDefault, "items", "sku", ""}},
	}
	tg := targetsFor(t)[0]
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := target{tg.name, tg.d, pg.NewDatabase(t)}
			m, _ := migrator(t, tg, migrate.Options{})
			if _, _, err := expand(t, m, "v1", v1Files); err != nil {
				t.Fatal(err)
			}
			_, _, err := expand(t, m, "v2", withFiles(map[string]string{"expand/002_change.sql": c.file}))
			var be *migrate.BreakageError
			if !errors.As(err, &be) {
				t.Fatalf("Expand = %v, want a BreakageError", err)
			}
			if diff := cmp.Diff([]brief{c.want}, briefs(be.Breakages)); diff != "" {
				t.Errorf("breakages (-want +got):\n%s", diff)
			}
			assertUntouched(t, tg)
		})
	}
}

// The same, when the expand step is the user's own migration command: it
// runs against the shadow first, and never reaches production.
func TestShadowStopsABreakingUserCommand(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		m, _ := migrator(t, tg, migrate.Options{})
		if _, _, err := expand(t, m, "v1", v1Files); err != nil {
			t.Fatal(err)
		}
		m, shadowDir := migrator(t, tg, migrate.Options{ExpandCommand: toolCommand(t, "ALTER TABLE items DROP COLUMN legacy_note")})
		_, progress, err := expand(t, m, "v2", nil)
		var be *migrate.BreakageError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), "column items.legacy_note is gone") {
			t.Fatalf("Expand with a breaking command = %v, want the shadow to refuse it", err)
		}
		if !progress.contains("expand_command on the shadow: migrate tool: done") {
			t.Errorf("progress does not show the command's run on the shadow:\n%s", progress)
		}
		assertUntouched(t, tg)
		assertNoShadowLeft(t, tg, tg.open(t))
		if shadowDir != "" {
			assertEmptyDir(t, shadowDir)
		}
	})
}

func TestUserCommandRunsOnProductionAfterTheShadow(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		m, _ := migrator(t, tg, migrate.Options{})
		if _, _, err := expand(t, m, "v1", v1Files); err != nil {
			t.Fatal(err)
		}
		cmd := toolCommand(t, "ALTER TABLE items ADD COLUMN email text")
		m, _ = migrator(t, tg, migrate.Options{ExpandCommand: cmd, ContractCommand: toolCommand(t, "ALTER TABLE items DROP COLUMN legacy_note")})
		summary, progress, err := expand(t, m, "v2", nil)
		if err != nil {
			t.Fatalf("Expand = %v\n%s", err, progress)
		}
		if !strings.HasPrefix(summary, "expand_command ") || !strings.HasSuffix(summary, " ran") {
			t.Errorf("summary = %q, want the command reported", summary)
		}
		db := tg.open(t)
		if got := columnsOf(t, tg, db, "items"); !slicesContain(got, "email") {
			t.Errorf("items columns = %v, want email added by the command", got)
		}
		if _, err := m.Contract(context.Background(), "v2", t.TempDir(), nil); err != nil {
			t.Fatalf("Contract = %v", err)
		}
		if got := columnsOf(t, tg, db, "items"); slicesContain(got, "legacy_note") {
			t.Errorf("items columns after the contract command = %v, want legacy_note dropped", got)
		}
	})
}

// A file fails on production only (its data conflicts with what the empty
// shadow held): the files before it stay applied and recorded, nothing of
// it is applied, and the error names the file and the line.
func TestExpandFailsHalfwayOnProduction(t *testing.T) {
	tg := targetsFor(t)[0]
	m, _ := migrator(t, tg, migrate.Options{})
	if _, _, err := expand(t, m, "v1", map[string]string{
		"expand/001_settings.sql": "CREATE TABLE settings (key text PRIMARY KEY, value text);\n"}); err != nil {
		t.Fatal(err)
	}
	db := tg.open(t)
	exec(t, db, "INSERT INTO settings (key) VALUES ('theme')")
	_, _, err := expand(t, m, "v2", map[string]string{
		"expand/001_settings.sql": "CREATE TABLE settings (key text PRIMARY KEY, value text);\n",
		"expand/002_a.sql":        "CREATE TABLE a (id integer);\n",
		"expand/003_seed.sql":     "CREATE TABLE half (id integer);\nINSERT INTO settings (key) VALUES ('theme');\n",
	})
	var se *migrate.StatementError
	if !errors.As(err, &se) || se.Path != "expand/003_seed.sql" || se.Line != 2 {
		t.Fatalf("Expand = %v, want a StatementError at expand/003_seed.sql:2", err)
	}
	for _, want := range []string{"002_a applied and recorded before it", "duplicate key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if diff := cmp.Diff([]string{"expand/001_settings by v1", "expand/002_a by v2"}, records(t, tg, db)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if tableExists(t, tg, db, "half") {
		t.Error("table half exists: the failing file was half-applied")
	}
}

func TestExpandRefusesDrift(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		m, _ := migrator(t, tg, migrate.Options{})
		if _, _, err := expand(t, m, "v1", v1Files); err != nil {
			t.Fatal(err)
		}
		_, _, err := expand(t, m, "v2", map[string]string{"expand/001_items.sql": itemsSQL + "-- edited\n"})
		var de *migrate.DriftError
		if !errors.As(err, &de) || de.Path != "expand/001_items.sql" {
			t.Errorf("Expand with an edited applied file = %v, want a DriftError", err)
		}
	})
}

func TestApplied(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		m, _ := migrator(t, tg, migrate.Options{})
		if _, _, err := expand(t, m, "v1", v1Files); err != nil {
			t.Fatal(err)
		}
		recs, err := m.Applied(context.Background())
		if err != nil || len(recs) != 1 {
			t.Fatalf("Applied = %v, %v", recs, err)
		}
		f := parse(t, "expand/001_items.sql", itemsSQL)[0]
		if r := recs[0]; r.Checksum != f.Checksum || r.Release != "v1" || r.AppliedAt.IsZero() {
			t.Errorf("Applied()[0] = %+v, want the file's checksum, release v1 and a time", r)
		}
		set, _, err := migrate.LoadRelease(release(t, withFiles(map[string]string{"expand/002_email.sql": "ALTER TABLE items ADD COLUMN email text;\n"})))
		if err != nil {
			t.Fatal(err)
		}
		c := migrate.Compare(set, recs)
		if len(c.Pending) != 1 || c.Pending[0].Path != "expand/002_email.sql" || len(c.Drift) != 0 {
			t.Errorf("Compare = %+v, want 002_email pending and no drift", c)
		}
	})
}

// assertUntouched checks that production still has v1's schema and
// history.
func assertUntouched(t *testing.T, tg target) {
	t.Helper()
	db := tg.open(t)
	if diff := cmp.Diff([]string{"id", "name", "legacy_note"}, columnsOf(t, tg, db, "items")); diff != "" {
		t.Errorf("production items changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"expand/001_items by v1"}, records(t, tg, db)); diff != "" {
		t.Errorf("production history changed (-want +got):\n%s", diff)
	}
}

func slicesContain(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
