package migrate_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/migrate"
)

// The DBA corpus (testdata/dba) is a set of migration files, each with the
// verdict a careful DBA gives it as an expand step (or a contract step)
// against the live schema in schema.sql, and why, in its header:
//
//	-- verdict: refuse | warn | pass
//	-- why: …
//
// TestDBACorpus judges every file three ways — bascule's lint with the live
// schema known (as the gates run it), bascule's gates on a real PostgreSQL
// (lint, then the shadow replay), and squawk (its findings recorded in
// squawk.json by squawk.sh) — writes the table of verdicts to
// verdicts.golden (go test -update rewrites it), and prints precision and
// recall of each against the DBA's verdicts.
const dbaDir = "testdata/dba"

// verdicts, from the mildest.
const (
	pass   = "pass"
	warn   = "warn"
	refuse = "refuse"
)

var rank = map[string]int{pass: 0, warn: 1, refuse: 2}

func worst(a, b string) string {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// dbaCase is one file of the corpus.
type dbaCase struct {
	path    string // "expand/012_create_index.sql"
	file    *migrate.File
	verdict string // the DBA's
	why     string
}

func loadDBACorpus(t *testing.T) []dbaCase {
	t.Helper()
	var cases []dbaCase
	for _, phase := range []string{"expand", "contract"} {
		names, err := filepath.Glob(filepath.Join(dbaDir, phase, "*.sql"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			path := phase + "/" + filepath.Base(name)
			f, err := migrate.ParseFile(path, data)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			c := dbaCase{path: path, file: f}
			sc := bufio.NewScanner(strings.NewReader(string(data)))
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "-- verdict: "):
					c.verdict = strings.TrimPrefix(line, "-- verdict: ")
				case strings.HasPrefix(line, "-- why: "):
					c.why = strings.TrimPrefix(line, "-- why: ")
				case strings.HasPrefix(line, "--   ") && c.why != "":
					c.why += " " + strings.TrimPrefix(line, "--   ")
				}
			}
			if _, ok := rank[c.verdict]; !ok || c.why == "" {
				t.Fatalf("%s: header needs -- verdict: refuse|warn|pass and -- why: …", path)
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// reportVerdict is what a lint report means for a deployment.
func reportVerdict(r migrate.Report) string {
	v := pass
	for _, f := range r.Findings {
		switch {
		case f.Allowed:
		case f.Severity == migrate.SeverityError:
			v = refuse
		default:
			v = worst(v, warn)
		}
	}
	return v
}

// squawkIgnored are squawk's rules about what bascule does itself for every
// file (it sets lock_timeout and statement_timeout before each one): a
// bascule user turns them off, so the comparison does.
var squawkIgnored = []string{"require-lock-timeout", "require-statement-timeout"}

// squawkVerdicts reads squawk.json: squawk fails a file (exit status 1) on
// any finding, so any finding refuses it.
func squawkVerdicts(t *testing.T) (map[string]string, map[string][]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dbaDir, "squawk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string][]struct{ Rule string }
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("squawk.json: %v", err)
	}
	verdicts, rules := map[string]string{}, map[string][]string{}
	for file, findings := range raw {
		for _, f := range findings {
			if !slices.Contains(squawkIgnored, f.Rule) && !slices.Contains(rules[file], f.Rule) {
				rules[file] = append(rules[file], f.Rule)
				verdicts[file] = refuse
			}
		}
	}
	return verdicts, rules
}

// scores are precision and recall of one judge against the DBA.
type scores struct {
	tp, fp, fn, agree, n int
}

func (s *scores) add(dba, got string, positive func(string) bool) {
	s.n++
	if dba == got {
		s.agree++
	}
	switch {
	case positive(dba) && positive(got):
		s.tp++
	case positive(got):
		s.fp++
	case positive(dba):
		s.fn++
	}
}

func (s scores) precision() float64 { return float64(s.tp) / float64(max(s.tp+s.fp, 1)) }
func (s scores) recall() float64    { return float64(s.tp) / float64(max(s.tp+s.fn, 1)) }

func (s scores) String() string {
	return fmt.Sprintf("precision %.2f (%d/%d), recall %.2f (%d/%d)", s.precision(), s.tp, s.tp+s.fp, s.recall(), s.tp, s.tp+s.fn)
}

func isRefuse(v string) bool  { return v == refuse }
func isFlagged(v string) bool { return v != pass }

func TestDBACorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("rehearses 89 migrations on shadow databases (about 30 s)")
	}
	cases := loadDBACorpus(t)
	if len(cases) < 60 {
		t.Errorf("the DBA corpus has %d files, want at least 60", len(cases))
	}
	tg := target{"postgres", targetsFor(t)[0].d, pg.NewDatabase(t)}
	db := tg.open(t)
	schemaSQL, err := os.ReadFile(filepath.Join(dbaDir, "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, db, string(schemaSQL))
	live, err := tg.d.Inspect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	m := migrate.New(migrate.Options{Dialect: tg.d, URL: tg.url})
	squawk, squawkRules := squawkVerdicts(t)

	type judge struct {
		name   string
		refuse scores
		flag   scores
	}
	judges := []*judge{{name: "bascule lint"}, {name: "bascule gates"}, {name: "squawk"}}
	refusedSafe := 0
	var table strings.Builder
	fmt.Fprintf(&table, "%-58s %-6s %-6s %-6s %-6s  %s\n", "FILE", "DBA", "LINT", "GATES", "SQUAWK", "SQUAWK RULES")
	for _, c := range cases {
		set := &migrate.Set{}
		if c.file.Phase == migrate.Expand {
			set.Expand = []*migrate.File{c.file}
		} else {
			set.Contract = []*migrate.File{c.file}
		}
		lint := reportVerdict(migrate.LintWith(set, migrate.LintOptions{Schema: live}))
		gates := worst(lint, gateVerdict(t, m, c))
		sq := squawk[c.path]
		if sq == "" {
			sq = pass
		}
		if c.verdict == pass && gates == refuse {
			refusedSafe++
		}
		for i, v := range []string{lint, gates, sq} {
			judges[i].refuse.add(c.verdict, v, isRefuse)
			judges[i].flag.add(c.verdict, v, isFlagged)
		}
		fmt.Fprintf(&table, "%-58s %-6s %-6s %-6s %-6s  %s\n", c.path, c.verdict, lint, gates, sq, strings.Join(squawkRules[c.path], ","))
	}
	fmt.Fprintf(&table, "\n%d files. Refused (blocking) vs the DBA's refuse; flagged (refused or warned) vs the DBA's refuse or warn:\n", len(cases))
	for _, j := range judges {
		fmt.Fprintf(&table, "%-14s refuse: %s; flag: %s; same verdict %d/%d\n", j.name, j.refuse, j.flag, j.refuse.agree, j.refuse.n)
	}
	t.Log("\n" + table.String())
	golden := filepath.Join(dbaDir, "verdicts.golden")
	if updating() {
		if err := os.WriteFile(golden, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s (go test -update writes it): %v", golden, err)
	}
	if string(want) != table.String() {
		t.Errorf("verdicts differ from %s (go test -update rewrites it once the change is understood):\n%s", golden, table.String())
	}
	// The floor under which a change of the rules is a regression, not a
	// trade-off: the gates refuse no file a DBA passes, rarely flag one,
	// and catch at least as much as the lint.
	if refusedSafe > 0 {
		t.Errorf("the gates refuse %d files a DBA passes", refusedSafe)
	}
	gatesJ, lintJ := judges[1], judges[0]
	if gatesJ.flag.precision() < 0.95 {
		t.Errorf("the gates flag safe migrations: %s", gatesJ.flag)
	}
	if gatesJ.refuse.recall() < lintJ.refuse.recall() || gatesJ.refuse.recall() < 0.9 {
		t.Errorf("gates' refuse recall %s, lint's %s; want at least 0.9 and no less than the lint's", gatesJ.refuse, lintJ.refuse)
	}
}

// updating reports whether the tests run with -update (the flag is
// declared by corpus_test.go, in the package's internal tests).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// gateVerdict runs bascule's gates on c against the live database: for an
// expand file, Check as a deployment of it; for a contract file, Check as
// a deployment that finalizes the release shipping it (which rehearses its
// contract step). A refusal refuses; lint warnings and compatibility
// risks warn.
func gateVerdict(t *testing.T, m *migrate.Migrator, c dbaCase) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dbaDir, c.path))
	if err != nil {
		t.Fatal(err)
	}
	rel := release(t, map[string]string{c.path: string(data)})
	plan := migrate.Plan{Candidate: migrate.Release{Version: "v2", Dir: rel}}
	if c.file.Phase == migrate.Contract {
		plan = migrate.Plan{Candidate: migrate.Release{Version: "v3", Dir: release(t, nil)},
			Live: migrate.Release{Version: "v2", Dir: rel}, Finalize: true}
	}
	var progress lines
	if _, err := m.Check(context.Background(), plan, progress.add); err != nil {
		t.Logf("%s: gates: %v", c.path, err)
		return refuse
	}
	if progress.contains(" warning: ") || progress.contains("compatibility risk") {
		return warn
	}
	return pass
}
