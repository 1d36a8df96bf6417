package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Options configure a Migrator. Dialect and URL are required; the zero
// value of every other field works.
type Options struct {
	Dialect Dialect
	// URL is the app's database (database.url).
	URL string
	// ShadowURL is where shadow databases are created (migrate.shadow_url);
	// see ShadowOptions.At.
	ShadowURL string
	// LockTimeout, StatementTimeout, LockRetries, RetryBackoff and
	// LockWait tune the Runner; see there.
	LockTimeout      time.Duration
	StatementTimeout time.Duration
	LockRetries      int
	RetryBackoff     time.Duration
	LockWait         time.Duration
	// ExpandCommand and ContractCommand, when set, are the user's own
	// migration tool (migrate.expand_command, migrate.contract_command):
	// bascule runs them from the release directory with DATABASE_URL set,
	// instead of applying the release's migration files itself. The gates
	// treat them the same: the expand command is rehearsed on a shadow
	// database first.
	ExpandCommand   []string
	ContractCommand []string
	// CompatCommand, when set, is the live release's own check against a
	// schema (migrate.compat_command): when a deployment's gates rehearse
	// its migrations on a shadow database, bascule runs it from the live
	// release's directory with DATABASE_URL set to the shadow, after the
	// candidate's expand step; the deployment is refused unless it passes.
	// CompatTimeout bounds it; default 5m.
	CompatCommand []string
	CompatTimeout time.Duration
	// Commands runs the three commands above; nil runs them here, from
	// the release's directory. With releases that are container images
	// the tool is in the image: the kubernetes driver runs it as a Job.
	Commands CommandRunner
	Logger   *slog.Logger // nil: discard
}

// Migrator runs a release's migrations for the deploy pipeline (it is a
// deploy.Migrations) and answers `bascule migrate status`.
//
// Expand takes the migration lock, reads the history and refuses drift,
// then runs the gates in order, each refusing the release before anything
// touches production: the static lint of the release's pending migration
// files (expand and contract: a contract error is better known before the
// switch), the shadow replay of the expand step with a schema diff, and
// only then the expand step on production. The lock is held throughout,
// so the schema the shadow rehearsed on is the one production gets.
// Contract lints the pending contract files (locking rules only) and
// applies them under the lock.
type Migrator struct {
	opts   Options
	runner *Runner
	log    *slog.Logger
}

// New returns a Migrator.
func New(opts Options) *Migrator {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{Dialect: opts.Dialect, LockTimeout: opts.LockTimeout, StatementTimeout: opts.StatementTimeout,
		LockRetries: opts.LockRetries, RetryBackoff: opts.RetryBackoff, LockWait: opts.LockWait}
	return &Migrator{opts: opts, runner: r, log: log}
}

// Driver is the dialect's name, "postgres" or "sqlite".
func (m *Migrator) Driver() string { return m.opts.Dialect.Name() }

// MigrationsDir is the folder of a release that holds its migrations.
const MigrationsDir = "migrations"

// LoadRelease reads the migrations of the release unpacked in dir. found
// is false when the release has no migrations/ folder.
func LoadRelease(dir string) (set *Set, found bool, err error) {
	info, err := os.Stat(filepath.Join(dir, MigrationsDir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Set{}, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read migrations: %w", err)
	case !info.IsDir():
		return nil, false, fmt.Errorf("read migrations: %s is not a folder", MigrationsDir)
	}
	set, err = LoadDir(os.DirFS(dir), MigrationsDir)
	if err != nil {
		return nil, false, err
	}
	return set, true, nil
}

// Expand runs the expand step of release version, unpacked in dir; see
// Migrator. It returns a summary for the deployment record, such as "2
// expand migrations applied: 001_items, 002_email; lint: 1 finding
// accepted: …". A refusal is a *LintError, a *BreakageError or a
// *DriftError; a failure on production a *StatementError or a
// *LockTimeoutError, wrapped.
func (m *Migrator) Expand(ctx context.Context, version, dir string, progress func(string)) (string, error) {
	progress = m.logged(version, Expand, progress)
	set, found, err := LoadRelease(dir)
	if err != nil {
		return "", err
	}
	cmd := m.opts.ExpandCommand
	if !found && len(cmd) == 0 {
		return "no migrations", nil
	}
	return m.locked(ctx, progress, func(db *sql.DB) (string, error) {
		applied, err := m.runner.prepare(ctx, db, set.Files(), progress)
		if err != nil {
			return "", err
		}
		todo := pending(set.Expand, applied)
		rep, err := m.lint(ctx, db, m.toLint(set, applied))
		if err != nil {
			return "", err
		}
		lintNote, err := m.lintGate(rep, progress)
		if err != nil {
			return "", err
		}
		if len(todo) == 0 && len(cmd) == 0 {
			return withNote(fmt.Sprintf("expand migrations up to date (%d applied before)", len(set.Expand)), lintNote), nil
		}
		if err := m.shadowGate(ctx, db, rehearsal{expand: &step{Expand, version, dir, todo}}, progress); err != nil {
			return "", err
		}
		msg, err := m.apply(ctx, db, Expand, version, dir, set.Expand, progress)
		return withNote(msg, lintNote), err
	})
}

// NoContract is Contract's summary for a release that ships no contract
// step: finalizing it changes nothing in the database.
const NoContract = "no contract migrations"

// Contract runs the contract step of release version, unpacked in dir,
// under the migration lock: the lint's locking rules, a rehearsal on a
// shadow copy of the schema (a contract step that fails there is refused
// before it touches production), then the contract files (or the contract
// command). There is no shadow diff: removing what the previous release
// needed is the point.
func (m *Migrator) Contract(ctx context.Context, version, dir string, progress func(string)) (string, error) {
	progress = m.logged(version, Contract, progress)
	set, _, err := LoadRelease(dir)
	if err != nil {
		return "", err
	}
	cmd := m.opts.ContractCommand
	if len(set.Contract) == 0 && len(cmd) == 0 {
		return NoContract, nil
	}
	return m.locked(ctx, progress, func(db *sql.DB) (string, error) {
		applied, err := m.runner.prepare(ctx, db, set.Files(), progress)
		if err != nil {
			return "", err
		}
		rep, err := m.lint(ctx, db, &Set{Contract: m.toLint(set, applied).Contract})
		if err != nil {
			return "", err
		}
		lintNote, err := m.lintGate(rep, progress)
		if err != nil {
			return "", err
		}
		todo := pending(set.Contract, applied)
		if len(todo) == 0 && len(cmd) == 0 {
			return withNote("contract migrations up to date", lintNote), nil
		}
		if err := m.shadowGate(ctx, db, rehearsal{contract: &step{Contract, version, dir, todo}}, progress); err != nil {
			return "", err
		}
		msg, err := m.apply(ctx, db, Contract, version, dir, set.Contract, progress)
		return withNote(msg, lintNote), err
	})
}

// toLint returns the files of set that the gates lint: those not applied
// yet. An applied file cannot change (that is drift), so linting it again
// could only block every later release on a rule added since; and the
// tables earlier files created are existing tables for the pending ones.
// With a user's migration command bascule cannot know which files the tool
// applied, so the whole folder is linted.
func (m *Migrator) toLint(set *Set, applied map[key]Record) *Set {
	if len(m.opts.ExpandCommand) > 0 || len(m.opts.ContractCommand) > 0 {
		return set
	}
	return &Set{Expand: pending(set.Expand, applied), Contract: pending(set.Contract, applied)}
}

// locked opens the app's database and runs fn under the migration lock.
// Expand holds it from the drift check to the last file, so the schema the
// shadow rehearsed on is the schema production gets.
func (m *Migrator) locked(ctx context.Context, progress func(string), fn func(db *sql.DB) (string, error)) (string, error) {
	db, err := m.opts.Dialect.Open(ctx, m.opts.URL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	unlock, err := m.opts.Dialect.Lock(ctx, db, m.runner.lockWait(), progress)
	if err != nil {
		return "", err
	}
	defer func() {
		if err := unlock(); err != nil {
			m.log.Error("release migration lock", "err", err)
		}
	}()
	return fn(db)
}

// apply runs a phase on production: the user's command when configured,
// else the pending files.
func (m *Migrator) apply(ctx context.Context, db *sql.DB, phase Phase, version, dir string, files []*File, progress func(string)) (string, error) {
	if cmd := m.command(phase); len(cmd) > 0 {
		label := string(phase) + "_command"
		note, err := m.run(ctx, Command{Argv: cmd, Version: version, Dir: dir, DatabaseURL: m.opts.URL, Label: label}, progress)
		if err != nil {
			return "", err
		}
		msg := label + " " + strings.Join(cmd, " ") + " ran"
		if note != "" {
			msg += " " + note // where: "as Kubernetes Job …"
		}
		return msg, nil
	}
	done, err := m.runner.applyLocked(ctx, db, files, version, progress)
	if err != nil {
		if len(done) > 0 {
			return "", fmt.Errorf("apply %s migrations (%s applied and recorded before it): %w", phase, names(done), err)
		}
		return "", fmt.Errorf("apply %s migrations: %w", phase, err)
	}
	if len(done) == 0 {
		return fmt.Sprintf("%s migrations up to date", phase), nil
	}
	return fmt.Sprintf("%d %s %s applied: %s", len(done), phase, plural(len(done), "migration"), names(done)), nil
}

// Applied returns the migration files recorded as applied in the app's
// database.
func (m *Migrator) Applied(ctx context.Context) ([]Record, error) {
	db, err := m.opts.Dialect.Open(ctx, m.opts.URL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return m.runner.History(ctx, db)
}

// Lint lints set as the gates would now: the files the app's database has
// not applied yet (see toLint), with the rules that apply to its engine.
func (m *Migrator) Lint(ctx context.Context, set *Set) (Report, error) {
	db, err := m.opts.Dialect.Open(ctx, m.opts.URL)
	if err != nil {
		return Report{}, err
	}
	defer db.Close()
	applied, err := m.runner.History(ctx, db)
	if err != nil {
		return Report{}, err
	}
	opts, err := m.lintOptions(ctx, db)
	if err != nil {
		return Report{}, err
	}
	return LintWith(m.toLint(set, index(applied)), opts).For(m.Driver()), nil
}

// lintOptions are what the lint knows of this database: the runner's
// limits and the live schema. With a user's migration command bascule
// cannot know which files were applied, so it lints each file as if those
// before it were.
func (m *Migrator) lintOptions(ctx context.Context, db *sql.DB) (LintOptions, error) {
	schema, err := m.opts.Dialect.Inspect(ctx, db)
	if err != nil {
		return LintOptions{}, fmt.Errorf("lint: inspect the live schema: %w", err)
	}
	return LintOptions{Limits: m.runner.limits(), Schema: schema,
		PerFile: len(m.opts.ExpandCommand) > 0 || len(m.opts.ContractCommand) > 0}, nil
}

// lint lints set with what the lint knows of db.
func (m *Migrator) lint(ctx context.Context, db *sql.DB, set *Set) (Report, error) {
	opts, err := m.lintOptions(ctx, db)
	if err != nil {
		return Report{}, err
	}
	return LintWith(set, opts), nil
}

// logged sends progress lines to the log as well.
func (m *Migrator) logged(version string, phase Phase, progress func(string)) func(string) {
	progress = orDiscard(progress)
	return func(line string) {
		m.log.Info("migrate", "version", version, "phase", phase, "event", line)
		progress(line)
	}
}

// names lists files as "001_items, 002_email".
func names(files []*File) string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimSuffix(path.Base(f.Path), ".sql")
	}
	return strings.Join(out, ", ")
}

func withNote(msg, note string) string {
	if note == "" {
		return msg
	}
	return msg + "; " + note
}
