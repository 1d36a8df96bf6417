package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
)

// v2Migrations are v2's files: it adds email, and its contract step drops
// the column only v1 used and adds a table, as finalizing v2 would.
var v2Migrations = map[string]string{
	"migrations/expand/001_items.sql":         itemsV1,
	"migrations/expand/002_email.sql":         "ALTER TABLE items ADD COLUMN email text;\n",
	"migrations/contract/001_drop_legacy.sql": "ALTER TABLE items DROP COLUMN legacy_note;\nCREATE TABLE audit (id bigint PRIMARY KEY);\n",
}

// withMigrations returns v2's files plus more.
func withMigrations(more map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range v2Migrations {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// migrationsV1V2 starts bascule on a fresh PostgreSQL database with extra
// config, deploys v1 (live on blue), then v2 (live on green, not
// finalized): blue runs v1, the rollback target.
func migrationsV1V2(t *testing.T, extra string) (*instance, *sql.DB, string) {
	t.Helper()
	pgURL := pgtest.Start(t).NewDatabase(t)
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	in := newInstance(t, fmt.Sprintf("database:\n  driver: postgres\n  url: %q\n%s", pgURL, extra))
	in.start()
	ctx := context.Background()
	in.addDBRelease("v1", pgURL, []string{"name", "legacy_note"}, map[string]string{"migrations/expand/001_items.sql": itemsV1})
	if d := in.deploy("v1"); d.State != store.StateReady {
		t.Fatalf("deploy v1 ended %s: %s", d.State, d.Error)
	}
	if _, err := in.cl.GoLive(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	in.write("one")
	in.addDBRelease("v2", pgURL, []string{"name", "email"}, withMigrations(nil))
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 ended %s: %s", d.State, d.Error)
	}
	if _, err := in.cl.GoLive(ctx, "v2"); err != nil {
		t.Fatal(err)
	}
	return in, db, pgURL
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow("SELECT to_regclass($1) IS NOT NULL", name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// A release that a gate refuses touches nothing of production: the live
// release is not finalized (its contract step does not run), so the
// rollback to the release before stays the usual instant switch.
func TestMigrationRefusedReleaseDoesNotFinalizeTheLiveOne(t *testing.T) {
	in, db, pgURL := migrationsV1V2(t, "")
	in.addDBRelease("v3", pgURL, []string{"name"}, withMigrations(map[string]string{
		"migrations/expand/003_drop_email.sql": "ALTER TABLE items DROP COLUMN email;\n",
	}))
	d := in.deploy("v3")
	if d.State != store.StateFailed || !strings.Contains(d.Error, "lint refused") {
		t.Fatalf("deploy v3 ended %s: %q; want the lint to refuse it", d.State, d.Error)
	}
	if tableExists(t, db, "audit") || !slices.Contains(itemColumns(t, db), "legacy_note") {
		t.Errorf("after the refused v3: audit exists %v, items columns %v; want v2's contract step not run",
			tableExists(t, db, "audit"), itemColumns(t, db))
	}
	if msg := stepMessage(d, "finalize"); msg != "" {
		t.Errorf("the refused deployment has a finalize step: %q", msg)
	}
	st, err := in.cl.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if live := st.Colors[1]; live.Version != "v2" || live.State != store.StateLive || st.RollbackBlocked != "" {
		t.Errorf("after the refused v3: green = %s %s, rollback blocked %q; want v2 live, not finalized, rollback open",
			live.Version, live.State, st.RollbackBlocked)
	}

	// A candidate that passes finalizes v2 first, as before: its gates
	// rehearsed v2's contract step, then its own expand step.
	in.addDBRelease("v4", pgURL, []string{"name", "email"}, withMigrations(map[string]string{
		"migrations/expand/003_note.sql": "ALTER TABLE items ADD COLUMN note text;\n",
	}))
	d = in.deploy("v4")
	if d.State != store.StateReady {
		t.Fatalf("deploy v4 ended %s: %s", d.State, d.Error)
	}
	names := make([]string, len(d.Steps))
	for i, s := range d.Steps {
		names[i] = s.Name
	}
	if want := "fetch gates finalize migrate replace start health smoke"; strings.Join(names, " ") != want {
		t.Errorf("v4's steps = %v, want %s", names, want)
	}
	if msg := stepMessage(d, "gates"); !strings.Contains(msg, "rehearsed v2's contract migration (001_drop_legacy) then v4's expand migration (003_note)") {
		t.Errorf("gates step = %q", msg)
	}
	if !tableExists(t, db, "audit") {
		t.Error("audit missing: v2's contract step did not run when v4 passed its gates")
	}
}

// A deployment refused before its replace step leaves the idle color as it
// was: the release before still runs there, warm, and the rollback to it
// is the usual switch. The failure shows no log: the candidate never ran,
// and the idle color's log is the old release's.
func TestMigrationRefusedReleaseKeepsTheRollbackTarget(t *testing.T) {
	in, _, pgURL := migrationsV1V2(t, "")
	ctx := context.Background()
	before, err := in.cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blue := before.Colors[0]
	if blue.Version != "v1" || !blue.Running {
		t.Fatalf("blue before v3 = %+v, want v1 running", blue)
	}
	in.addDBRelease("v3", pgURL, []string{"name"}, withMigrations(map[string]string{
		"migrations/expand/003_drop_email.sql": "ALTER TABLE items DROP COLUMN email;\n",
	}))
	d := in.deploy("v3")
	if d.State != store.StateFailed || d.Color != "blue" {
		t.Fatalf("deploy v3 ended %s on %s: %q; want it refused on blue", d.State, d.Color, d.Error)
	}
	if len(d.LogTail) > 0 {
		t.Errorf("the refused deployment shows a log although its release never ran:\n%s", strings.Join(d.LogTail, "\n"))
	}
	after, err := in.cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b := after.Colors[0]; b.Version != "v1" || !b.Running || b.PID != blue.PID || !b.Healthy {
		t.Errorf("blue after the refused v3 = %+v, want v1 still running as pid %d", b, blue.PID)
	}
	if _, err := in.cl.Rollback(ctx, "v2 misbehaves", false); err != nil {
		t.Fatalf("Rollback after the refused v3 = %v, want the switch to v1", err)
	}
	if got := in.write("after"); got != "v1 wrote after" {
		t.Errorf("write after the rollback = %q, want v1 serving", got)
	}
}

// bascule killed while a deployment waits in its gates step: after the
// restart the interrupted deployment is failed, and the idle color still
// runs the release before, ready for a rollback.
func TestKill9DuringGatesKeepsTheRollbackTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills bascule")
	}
	in, db, pgURL := migrationsV1V2(t, "")
	ctx := context.Background()
	before, err := in.cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another session holds the migration lock: the deployment waits for
	// it in its gates step.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(x'62617363756c65'::bigint)"); err != nil {
		t.Fatal(err)
	}
	in.addDBRelease("v3", pgURL, []string{"name", "email"}, withMigrations(map[string]string{
		"migrations/expand/003_note.sql": "ALTER TABLE items ADD COLUMN note text;\n",
	}))
	d, err := in.cl.Deploy(ctx, "v3", "will be interrupted")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the deployment to wait in its gates step", func() bool {
		got, err := in.cl.Deployment(ctx, d.ID)
		return err == nil && len(got.Steps) > 0 && got.Steps[len(got.Steps)-1].Name == "gates"
	})
	in.kill()
	in.start()
	got, err := in.cl.Deployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.StateFailed || len(got.LogTail) > 0 {
		t.Errorf("interrupted deployment = %s %q with log %q, want failed and no log", got.State, got.Error, got.LogTail)
	}
	after, err := in.cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b := after.Colors[0]; b.Version != "v1" || b.PID != before.Colors[0].PID || !b.Healthy {
		t.Errorf("blue after the restart = %+v, want v1 still running as pid %d", b, before.Colors[0].PID)
	}
	if _, err := in.cl.Rollback(ctx, "v2 misbehaves", false); err != nil {
		t.Fatalf("Rollback after the restart = %v, want the switch to v1", err)
	}
}

// The case end to end, with the sample app's own compat command:
// v1 writes items without email; v2's expand step adds CHECK (email IS NOT
// NULL) NOT VALID, which the lint only warns about and the shadow diff
// calls a risk. v1's compat command, run against the shadow after v2's
// expand step, fails with the database's error; the deployment is refused
// with its output, and v1 keeps writing.
func TestMigrationCompatCommandCatchesANarrowingConstraint(t *testing.T) {
	pgURL := pgtest.Start(t).NewDatabase(t)
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, fmt.Sprintf("database:\n  driver: postgres\n  url: %q\nmigrate:\n  compat_command: [%q, sample-app, compat]\n", pgURL, self))
	in.start()
	table := "migrations/expand/001_items.sql"
	items := "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, email text);\n"
	in.addDBRelease("v1", pgURL, []string{"name"}, map[string]string{table: items})
	if d := in.deploy("v1"); d.State != store.StateReady {
		t.Fatalf("deploy v1 ended %s: %s", d.State, d.Error)
	}
	if _, err := in.cl.GoLive(context.Background(), "v1"); err != nil {
		t.Fatal(err)
	}

	in.addDBRelease("v2", pgURL, []string{"name", "email"}, map[string]string{table: items,
		"migrations/expand/002_email_required.sql": "ALTER TABLE items ADD CONSTRAINT items_email_required CHECK (email IS NOT NULL) NOT VALID;\n"})
	d := in.deploy("v2")
	if d.State != store.StateFailed {
		t.Fatalf("deploy v2 ended %s, want it refused by v1's compat command", d.State)
	}
	for _, want := range []string{"the live release v1 fails its own checks", "compat_command of v1", "items_email_required", "23514",
		"production is untouched"} {
		if !strings.Contains(d.Error, want) {
			t.Errorf("deploy v2's error lacks %q:\n%s", want, d.Error)
		}
	}
	for _, want := range []string{"constraint-narrows-writes warning", "compatibility risk"} {
		if msg := stepMessage(d, "gates"); !strings.Contains(msg, want) {
			t.Errorf("gates step lacks %q:\n%s", want, msg)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_constraint WHERE conname = 'items_email_required'").Scan(&n); err != nil || n != 0 {
		t.Errorf("constraint on production after the refusal: %d (%v), want none", n, err)
	}
	if got := in.write("still"); got != "v1 wrote still" {
		t.Errorf("write through v1 after the refusal = %q", got)
	}

	// A constraint v1's writes satisfy passes the same gate.
	in.addDBRelease("v2b", pgURL, []string{"name", "email"}, map[string]string{table: items,
		"migrations/expand/002_name_short.sql": "ALTER TABLE items ADD CONSTRAINT items_name_short CHECK (length(name) < 200) NOT VALID;\n"})
	if d := in.deploy("v2b"); d.State != store.StateReady || !strings.Contains(stepMessage(d, "gates"), "v1 passed its compat_command") {
		t.Errorf("deploy v2b ended %s (%s), gates step:\n%s", d.State, d.Error, stepMessage(d, "gates"))
	}
}

// The rollback refusal after finalize says what the contract step did:
// here nothing, as v2 shipped no contract migrations, instead of claiming
// that they removed what v1 needs.
func TestMigrationRollbackRefusalSaysWhatTheContractStepDid(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	in := newInstance(t, fmt.Sprintf("database:\n  driver: sqlite\n  url: %q\n", db))
	in.start()
	in.liveWith("v1")
	in.liveWith("v2")
	ctx := context.Background()
	if _, err := in.cl.Finalize(ctx, "v1 is gone"); err != nil {
		t.Fatalf("Finalize = %v", err)
	}
	_, err := in.cl.Rollback(ctx, "try", false)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusConflict {
		t.Fatalf("Rollback after finalize = %v, want 409", err)
	}
	if !strings.Contains(ce.Message, "its contract step changed nothing (it shipped no contract migrations)") ||
		strings.Contains(ce.Message, "removed what v1 needs") {
		t.Errorf("refusal = %q, want it to say that v2's contract step changed nothing", ce.Message)
	}
}
