package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Release is one release as a deployment's migrations see it.
type Release struct {
	Version string
	// Dir is where the release is unpacked; its migrations are in
	// Dir/migrations.
	Dir string
}

// Plan is the migration part of a deployment: the live release's contract
// step when it is finalized by this deployment, then the candidate's
// expand step.
type Plan struct {
	// Candidate is the release being deployed.
	Candidate Release
	// Live is the release that serves production; zero when none does.
	Live Release
	// Finalize says that Live's contract step runs before the candidate's
	// expand step (Live is live and not finalized yet).
	Finalize bool
}

// Check runs every gate of a deployment before anything of it touches
// production, under the migration lock: it refuses drift, lints the
// candidate's pending migration files, then rehearses on a shadow copy of
// the live schema the live release's contract step (when p.Finalize) and
// the candidate's expand step after it, and refuses the deployment when
// either fails there or the schema after the expand step would break the
// live release. The deploy pipeline calls it before it finalizes the live
// release, so a candidate that a gate refuses leaves the database exactly
// as it was. Expand and Contract run their own gates again when they
// apply: the schema may have changed in between (say, by hand).
//
// A refusal is a *LintError, a *BreakageError or a *DriftError; a step
// that fails on the shadow is reported as such, with "production is
// untouched".
func (m *Migrator) Check(ctx context.Context, p Plan, progress func(string)) (string, error) {
	progress = m.logged(p.Candidate.Version, Expand, progress)
	cand, candFound, err := LoadRelease(p.Candidate.Dir)
	if err != nil {
		return "", err
	}
	live := &Set{}
	if p.Finalize {
		if live, _, err = LoadRelease(p.Live.Dir); err != nil {
			return "", fmt.Errorf("read the migrations of %s, to be finalized: %w", p.Live.Version, err)
		}
	}
	hasContract := p.Finalize && (len(live.Contract) > 0 || len(m.opts.ContractCommand) > 0)
	if !candFound && len(m.opts.ExpandCommand) == 0 && !hasContract {
		return "no migrations", nil
	}
	return m.locked(ctx, progress, func(db *sql.DB) (string, error) {
		applied, err := m.runner.prepare(ctx, db, slices.Concat(cand.Files(), live.Contract), progress)
		if err != nil {
			return "", err
		}
		rep, err := m.lint(ctx, db, m.toLint(cand, applied))
		if err != nil {
			return "", err
		}
		lintNote, err := m.lintGate(rep, progress)
		if err != nil {
			return "", err
		}
		r := m.plan(p, cand, live, applied)
		if r.contract == nil && r.expand == nil {
			return withNote("no migrations pending", lintNote), nil
		}
		if len(m.opts.CompatCommand) > 0 && p.Live.Dir != "" {
			r.compat = &p.Live
		}
		if err := m.shadowGate(ctx, db, r, progress); err != nil {
			return "", err
		}
		return withNote("gates passed: "+r.String(), lintNote), nil
	})
}

// plan returns what the shadow rehearses for p: the steps that have
// something to run.
func (m *Migrator) plan(p Plan, cand, live *Set, applied map[key]Record) rehearsal {
	var r rehearsal
	if p.Finalize {
		todo := pending(live.Contract, applied)
		if len(todo) > 0 || len(m.opts.ContractCommand) > 0 {
			r.contract = &step{Contract, p.Live.Version, p.Live.Dir, todo}
		}
	}
	todo := pending(cand.Expand, applied)
	if len(todo) > 0 || len(m.opts.ExpandCommand) > 0 {
		r.expand = &step{Expand, p.Candidate.Version, p.Candidate.Dir, todo}
	}
	return r
}

// String says what a rehearsal ran, for the deployment record.
func (r rehearsal) String() string {
	var parts []string
	for _, st := range []*step{r.contract, r.expand} {
		if st != nil {
			parts = append(parts, st.String())
		}
	}
	if r.compat != nil {
		parts = append(parts, "the compat_command of "+r.compat.Version)
	}
	return "rehearsed " + strings.Join(parts, " then ")
}

func (st *step) String() string {
	if len(st.todo) == 0 {
		return fmt.Sprintf("the %s command for %s", st.phase, st.version)
	}
	return fmt.Sprintf("%s's %s %s (%s)", st.version, st.phase, plural(len(st.todo), "migration"), names(st.todo))
}
