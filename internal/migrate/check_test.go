package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/google/go-cmp/cmp"
)

// v2 of the app adds email and, in its contract step, drops the column
// only v1 used and adds a table.
var v2Files = withFiles(map[string]string{
	"expand/002_email.sql":    "ALTER TABLE items ADD COLUMN email text;\n",
	"contract/001_legacy.sql": "ALTER TABLE items DROP COLUMN legacy_note;\nCREATE TABLE audit (id integer PRIMARY KEY);\n",
})

// withV2 returns v2's files plus more, as v3 ships them.
func withV2(more map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range v2Files {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// liveV2 applies v1 and v2's expand step: v2 is live, not finalized.
func liveV2(t *testing.T, m *migrate.Migrator) migrate.Release {
	t.Helper()
	if _, _, err := expand(t, m, "v1", v1Files); err != nil {
		t.Fatal(err)
	}
	dir := release(t, v2Files)
	if _, err := m.Check(context.Background(), migrate.Plan{Candidate: migrate.Release{Version: "v2", Dir: dir}}, nil); err != nil {
		t.Fatalf("Check(v2) = %v", err)
	}
	if _, err := m.Expand(context.Background(), "v2", dir, nil); err != nil {
		t.Fatal(err)
	}
	return migrate.Release{Version: "v2", Dir: dir}
}

// Check rehearses the live release's contract step, then the candidate's
// expand step on the schema it leaves, and touches nothing of production,
// whether the candidate passes or not.
func TestCheckRehearsesTheContractThenTheExpandStep(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		m, _ := migrator(t, tg, migrate.Options{})
		live := liveV2(t, m)
		db := tg.open(t)
		before := records(t, tg, db)
		untouched := func(when string) {
			t.Helper()
			if diff := cmp.Diff(before, records(t, tg, db)); diff != "" {
				t.Errorf("history after %s (-before +after):\n%s", when, diff)
			}
			if got := columnsOf(t, tg, db, "items"); !slicesContain(got, "legacy_note") || slicesContain(got, "note") {
				t.Errorf("items columns after %s = %v, want legacy_note kept and nothing added", when, got)
			}
			if tableExists(t, tg, db, "audit") {
				t.Errorf("table audit exists after %s: v2's contract step ran on production", when)
			}
		}

		var progress lines
		v3 := release(t, withV2(map[string]string{"expand/003_note.sql": "ALTER TABLE items ADD COLUMN note text;\n"}))
		summary, err := m.Check(context.Background(), migrate.Plan{Candidate: migrate.Release{Version: "v3", Dir: v3}, Live: live, Finalize: true}, progress.add)
		want := "gates passed: rehearsed v2's contract migration (001_legacy) then v3's expand migration (003_note)"
		if err != nil || summary != want {
			t.Fatalf("Check(v3) = %q, %v; want %q\n%s", summary, err, want, progress.String())
		}
		for _, w := range []string{"shadow: contract step of v2 rehearsed", "shadow: expand step rehearsed"} {
			if !progress.contains(w) {
				t.Errorf("progress lacks %q:\n%s", w, progress.String())
			}
		}
		untouched("a passing Check")

		// v3 re-creates an index on the column v2's contract drops: only a
		// rehearsal of both steps, in order, finds it.
		index := "CREATE INDEX items_legacy_idx ON items (legacy_note);\n"
		if tg.name == "postgres" {
			index = "-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY items_legacy_idx ON items (legacy_note);\n"
		}
		v3b := release(t, withV2(map[string]string{"expand/003_idx.sql": index}))
		_, err = m.Check(context.Background(), migrate.Plan{Candidate: migrate.Release{Version: "v3b", Dir: v3b}, Live: live, Finalize: true}, nil)
		if err == nil || !strings.Contains(err.Error(), "legacy_note") || !strings.Contains(err.Error(), "production is untouched") {
			t.Errorf("Check(v3b) = %v, want the expand step's failure after v2's contract step on the shadow", err)
		}
		untouched("a refused Check")
	})
}

// A lint refusal comes from Check, before the live release is finalized.
func TestCheckRefusesWhatTheLintRefuses(t *testing.T) {
	tg := targetsFor(t)[0]
	m, _ := migrator(t, tg, migrate.Options{})
	live := liveV2(t, m)
	v3 := release(t, withV2(map[string]string{"expand/003_drop.sql": "ALTER TABLE items DROP COLUMN email;\n"}))
	_, err := m.Check(context.Background(), migrate.Plan{Candidate: migrate.Release{Version: "v3", Dir: v3}, Live: live, Finalize: true}, nil)
	var le *migrate.LintError
	if !errors.As(err, &le) {
		t.Fatalf("Check(v3 dropping a column) = %v, want a LintError", err)
	}
	if tableExists(t, tg, tg.open(t), "audit") {
		t.Error("v2's contract step ran although v3 was refused")
	}
}

// A contract step is rehearsed on a shadow before it runs: a file that
// would fail halfway (each statement of a NO TRANSACTION file stays
// applied) is refused with production untouched.
func TestContractIsRehearsedFirst(t *testing.T) {
	tg := targetsFor(t)[0]
	m, _ := migrator(t, tg, migrate.Options{})
	files := withFiles(map[string]string{
		"expand/002_idx.sql": "-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY items_name_idx ON items (name);\n",
		"contract/001_drop.sql": "-- +goose NO TRANSACTION\nDROP INDEX CONCURRENTLY items_name_idx;\n" +
			"ALTER TABLE items DROP COLUMN no_such_column;\n",
	})
	if _, _, err := expand(t, m, "v2", files); err != nil {
		t.Fatal(err)
	}
	_, err := m.Contract(context.Background(), "v2", release(t, files), nil)
	if err == nil || !strings.Contains(err.Error(), "no_such_column") || !strings.Contains(err.Error(), "production is untouched") {
		t.Fatalf("Contract with a failing second statement = %v, want it refused on the shadow", err)
	}
	var n int
	if err := tg.open(t).QueryRow("SELECT count(*) FROM pg_indexes WHERE indexname = 'items_name_idx'").Scan(&n); err != nil || n != 1 {
		t.Errorf("items_name_idx count = %d (%v), want the index still there", n, err)
	}
}

// The case: an expand step adds CHECK (col IS NOT NULL) NOT VALID
// on a column the live release leaves NULL. The lint warns, the shadow
// diff calls it a compatibility risk, and the live release's own check
// (migrate.compat_command, run against the shadow) refuses it; production
// never gets the constraint.
func TestCompatCommandRefusesWhatTheLiveReleaseCannotWrite(t *testing.T) {
	tg := targetsFor(t)[0]
	// v1's own check: its insert, which leaves legacy_note NULL.
	compat := toolCommand(t, "BEGIN; INSERT INTO items (id, name) VALUES (1, 'x'); ROLLBACK;")
	m, _ := migrator(t, tg, migrate.Options{CompatCommand: compat})
	if _, _, err := expand(t, m, "v1", v1Files); err != nil {
		t.Fatal(err)
	}
	live := migrate.Release{Version: "v1", Dir: release(t, v1Files)}
	check := func(version, sql string) (string, *lines, error) {
		var progress lines
		dir := release(t, withFiles(map[string]string{"expand/002_x.sql": sql}))
		summary, err := m.Check(context.Background(), migrate.Plan{Candidate: migrate.Release{Version: version, Dir: dir}, Live: live}, progress.add)
		return summary, &progress, err
	}

	_, progress, err := check("v2", "ALTER TABLE items ADD CONSTRAINT items_note_required CHECK (legacy_note IS NOT NULL) NOT VALID;\n")
	var ce *migrate.CompatError
	if !errors.As(err, &ce) || ce.Live != "v1" || !strings.Contains(err.Error(), "items_note_required") || !strings.Contains(err.Error(), "production is untouched") {
		t.Fatalf("Check(v2) = %v, want v1's compat_command to refuse it, naming the constraint", err)
	}
	for _, want := range []string{"lint: expand/002_x.sql:1 constraint-narrows-writes warning",
		"compatibility risk: the live release's writes fail where they break items: constraint items_note_required CHECK"} {
		if !progress.contains(want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
	var n int
	if err := tg.open(t).QueryRow("SELECT count(*) FROM pg_constraint WHERE conname = 'items_note_required'").Scan(&n); err != nil || n != 0 {
		t.Errorf("constraint on production: %d (%v), want none", n, err)
	}

	summary, progress, err := check("v2b", "ALTER TABLE items ADD CONSTRAINT items_name_short CHECK (length(name) < 100) NOT VALID;\n")
	if err != nil || !strings.Contains(summary, "the compat_command of v1") || !progress.contains("v1 passed its compat_command") {
		t.Errorf("Check(v2b) = %q, %v; want v1's compat_command to pass\n%s", summary, err, progress)
	}
}

// The gates know the live schema: widening a varchar passes (PostgreSQL
// neither rewrites nor scans the table), narrowing it is still refused.
func TestGatesJudgeTypeChangesAgainstTheLiveSchema(t *testing.T) {
	tg := targetsFor(t)[0]
	m, _ := migrator(t, tg, migrate.Options{})
	v1 := withFiles(map[string]string{"expand/002_tags.sql": "CREATE TABLE tags (label varchar(100));\n"})
	if _, _, err := expand(t, m, "v1", v1); err != nil {
		t.Fatal(err)
	}
	with := func(sql string) map[string]string {
		out := map[string]string{"expand/003_x.sql": sql}
		for k, v := range v1 {
			out[k] = v
		}
		return out
	}
	var le *migrate.LintError
	if _, _, err := expand(t, m, "v2", with("ALTER TABLE tags ALTER COLUMN label TYPE varchar(20);\n")); !errors.As(err, &le) {
		t.Errorf("Expand narrowing varchar(100) to varchar(20) = %v, want a LintError", err)
	}
	if _, _, err := expand(t, m, "v2", with("ALTER TABLE tags ALTER COLUMN label TYPE varchar(200);\n")); err != nil {
		t.Errorf("Expand widening varchar(100) to varchar(200) = %v, want it applied", err)
	}
	var typ string
	if err := tg.open(t).QueryRow("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'tags'::regclass AND attname = 'label'").Scan(&typ); err != nil || typ != "character varying(200)" {
		t.Errorf("tags.label = %q (%v), want character varying(200)", typ, err)
	}
}
