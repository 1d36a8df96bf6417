package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// LintError refuses migrations with blocking lint findings.
type LintError struct{ Report Report }

func (e *LintError) Error() string {
	var b strings.Builder
	errs, _, _ := e.Report.counts()
	fmt.Fprintf(&b, "lint refused the migrations: %d %s", errs, plural(errs, "error"))
	for _, f := range e.Report.Findings {
		if f.blocking() {
			fmt.Fprintf(&b, "\n  %s:%d: %s: %s\n    fix: %s", f.File, f.Line, f.Rule, f.Message, f.Fix)
		}
	}
	return b.String()
}

// BreakageError refuses an expand step that, replayed on a shadow copy of
// the schema, would break the live release. Production is untouched.
type BreakageError struct {
	Breakages []Breakage
}

func (e *BreakageError) Error() string {
	return fmt.Sprintf("the expand step would break the live release (found by replaying it on a shadow copy of the schema; "+
		"production is untouched):\n%s", formatBreakages(e.Breakages))
}

// For adapts a report to the database the migrations run on. PostgreSQL
// gets it as it is. On other engines the locking rules say nothing (SQLite
// locks the whole database for any write and has no CONCURRENTLY), and a
// statement PostgreSQL's parser refuses may well be valid there, so it is
// only a warning: the shadow replay runs it on the real engine.
func (r Report) For(driver string) Report {
	if driver == "" || driver == "postgres" {
		return r
	}
	out := Report{Files: r.Files}
	for _, f := range r.Findings {
		info, known := lookupRule(f.Rule)
		switch {
		case known && info.locking:
			continue
		case f.Rule == RuleParseError:
			f.Severity = SeverityWarning
			f.Message = "PostgreSQL's parser refuses this statement, so the lint could not check it (the shadow replay runs it on " +
				driver + "): " + f.Message
		}
		out.Findings = append(out.Findings, f)
	}
	return out
}

// lintGate refuses rep's blocking findings and puts the others in the
// deployment record: progress gets each with its reason, the returned note
// sums them up for the summary.
func (m *Migrator) lintGate(rep Report, progress func(string)) (string, error) {
	rep = rep.For(m.Driver())
	if rep.HasErrors() {
		return "", &LintError{Report: rep}
	}
	var accepted, warned []string
	for _, f := range rep.Findings {
		where := fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule)
		if f.Allowed {
			progress(fmt.Sprintf("lint: %s accepted: %s", where, f.AllowReason))
			accepted = append(accepted, fmt.Sprintf("%s (%s)", where, f.AllowReason))
		} else {
			progress(fmt.Sprintf("lint: %s warning: %s", where, f.Message))
			warned = append(warned, where)
		}
	}
	var parts []string
	if n := len(accepted); n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s accepted: %s", n, plural(n, "finding"), strings.Join(accepted, ", ")))
	}
	if n := len(warned); n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s: %s", n, plural(n, "warning"), strings.Join(warned, ", ")))
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "lint: " + strings.Join(parts, "; "), nil
}

// rehearsal is what a shadow replays: the contract step of the release
// being finalized, if any, then the candidate's expand step, if any.
type rehearsal struct {
	contract, expand *step
	// compat is the live release whose compat command runs against the
	// shadow after the steps; nil: none runs.
	compat *Release
}

// step is one phase of one release: its pending files, or the user's
// command when one is configured for the phase.
type step struct {
	phase   Phase
	version string
	dir     string
	todo    []*File
}

// shadowGate rehearses r on a shadow copy of the live schema and refuses
// it when a step fails there, or when the schema after the expand step
// would break the live release: compared with the schema after the
// contract step, which is the one the live release then runs on. The
// shadow is dropped whatever happens.
func (m *Migrator) shadowGate(ctx context.Context, db *sql.DB, r rehearsal, progress func(string)) (err error) {
	start := time.Now()
	d := m.opts.Dialect
	live, err := d.Inspect(ctx, db)
	if err != nil {
		return fmt.Errorf("shadow: inspect the live schema: %w", err)
	}
	sh, err := d.Shadow(ctx, db, ShadowOptions{LiveURL: m.opts.URL, At: m.opts.ShadowURL,
		Note: func(s string) { progress("shadow: " + s) }})
	if err != nil {
		return fmt.Errorf("shadow: copy the live schema: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := sh.Drop(dctx); derr != nil {
			m.log.Error("drop shadow database", "shadow", sh.Name, "err", derr)
		}
	}()
	sdb, err := d.Open(ctx, sh.URL)
	if err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	defer sdb.Close()
	base := live
	if r.contract != nil {
		if err := m.rehearse(ctx, sdb, sh, r.contract, progress); err != nil {
			return err
		}
		if base, err = d.Inspect(ctx, sdb); err != nil {
			return fmt.Errorf("shadow: inspect the schema after the contract step: %w", err)
		}
		progress(fmt.Sprintf("shadow: contract step of %s rehearsed on %s", r.contract.version, sh.Name))
	}
	if r.expand != nil {
		if err := m.expandGate(ctx, sdb, sh, base, r, start, progress); err != nil {
			return err
		}
	}
	if r.compat != nil {
		return m.compatGate(ctx, sh, *r.compat, progress)
	}
	return nil
}

// expandGate rehearses r's expand step on the shadow and refuses it when
// the schema after it would break the live release, compared with base.
func (m *Migrator) expandGate(ctx context.Context, sdb *sql.DB, sh *Shadow, base *Schema, r rehearsal, start time.Time, progress func(string)) error {
	if err := m.rehearse(ctx, sdb, sh, r.expand, progress); err != nil {
		return err
	}
	after, err := m.opts.Dialect.Inspect(ctx, sdb)
	if err != nil {
		return fmt.Errorf("shadow: inspect the schema after the expand step: %w", err)
	}
	if breaks := Diff(base, after); len(breaks) > 0 {
		return &BreakageError{Breakages: breaks}
	}
	verdict := "nothing the live release uses changes"
	if risks := Risks(base, after); len(risks) > 0 {
		verdict = "compatibility risk: the live release's writes fail where they break " + formatRisks(risks)
		switch {
		case len(m.opts.CompatCommand) == 0:
			verdict += " (no migrate.compat_command checks them)"
		case r.compat != nil:
			verdict += " (the live release's compat_command checks them next)"
		}
	}
	progress(fmt.Sprintf("shadow: expand step rehearsed on %s in %s (%s); %s",
		sh.Name, time.Since(start).Round(time.Millisecond), base.Changes(after), verdict))
	return nil
}

// CompatError refuses a deployment whose live release fails its own
// checks (migrate.compat_command) against the schema the deployment
// leaves, rehearsed on a shadow: production is untouched.
type CompatError struct {
	Live string
	Err  error
}

func (e *CompatError) Error() string {
	return fmt.Sprintf("the live release %s fails its own checks against the schema after this deployment's migrations "+
		"(rehearsed on a shadow copy; production is untouched): %v", e.Live, e.Err)
}

func (e *CompatError) Unwrap() error { return e.Err }

// compatGate runs the live release's compat command from its directory,
// with DATABASE_URL set to the shadow, bounded by the compat timeout.
func (m *Migrator) compatGate(ctx context.Context, sh *Shadow, live Release, progress func(string)) error {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, m.compatTimeout())
	defer cancel()
	label := "compat_command of " + live.Version
	_, err := m.run(cctx, Command{Argv: m.opts.CompatCommand, Version: live.Version, Dir: live.Dir, DatabaseURL: sh.URL, Label: label}, progress)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("%s %q did not finish within %s", label, strings.Join(m.opts.CompatCommand, " "), m.compatTimeout())
	}
	if err != nil {
		return &CompatError{Live: live.Version, Err: err}
	}
	progress(fmt.Sprintf("shadow: the live release %s passed its compat_command against the new schema in %s",
		live.Version, time.Since(start).Round(time.Millisecond)))
	return nil
}

// compatTimeout bounds the compat command; default 5m.
func (m *Migrator) compatTimeout() time.Duration {
	return orDefault(m.opts.CompatTimeout, 5*time.Minute)
}

// rehearse runs st on the shadow: the user's command for its phase, or
// its pending files.
func (m *Migrator) rehearse(ctx context.Context, sdb *sql.DB, sh *Shadow, st *step, progress func(string)) error {
	if cmd := m.command(st.phase); len(cmd) > 0 {
		label := string(st.phase) + "_command on the shadow"
		if _, err := m.run(ctx, Command{Argv: cmd, Version: st.version, Dir: st.dir, DatabaseURL: sh.URL, Label: label}, progress); err != nil {
			return fmt.Errorf("shadow: %w (production is untouched)", err)
		}
		return nil
	}
	if _, err := m.runner.applyLocked(ctx, sdb, st.todo, st.version, nil); err != nil {
		return fmt.Errorf("shadow: replay the %s migrations of %s: %w (production is untouched)", st.phase, st.version, err)
	}
	return nil
}

// command is the user's migration command for phase, if configured.
func (m *Migrator) command(phase Phase) []string {
	if phase == Contract {
		return m.opts.ContractCommand
	}
	return m.opts.ExpandCommand
}
