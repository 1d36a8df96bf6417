package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Runner applies migration files to one database: under the migration
// lock, each file in its own transaction (each statement alone when the
// file says NO TRANSACTION), recording each applied file in HistoryTable
// in that same transaction. Statements give up waiting for a lock after
// LockTimeout and are retried with exponential backoff, LockRetries times
// at most. Only Dialect is required; zero durations take the defaults.
type Runner struct {
	// Dialect is the engine's part the Runner needs; a full Dialect
	// (postgres.Dialect{}, sqlite.Dialect{}) is one.
	Dialect Session
	// LockTimeout bounds how long a statement waits for a table lock, and
	// so how long production queries can queue behind it. Default 500ms.
	LockTimeout time.Duration
	// StatementTimeout bounds how long a statement runs (and holds its
	// locks), also when bascule died and can no longer cancel it. Default
	// 10m; negative: no bound.
	StatementTimeout time.Duration
	// LockRetries is how many times a file (a statement, without a
	// transaction) is retried after a lock timeout. Default 5; negative:
	// none.
	LockRetries int
	// RetryBackoff is the wait before the first retry; it doubles at each
	// retry, up to 10s. Default 200ms.
	RetryBackoff time.Duration
	// LockWait is how long to wait for the migration lock when another run
	// holds it. Default 1m.
	LockWait time.Duration
	// Now is the clock of applied_at; nil: time.Now.
	Now func() time.Time
}

func (r *Runner) lockTimeout() time.Duration { return orDefault(r.LockTimeout, 500*time.Millisecond) }
func (r *Runner) backoff() time.Duration     { return orDefault(r.RetryBackoff, 200*time.Millisecond) }
func (r *Runner) lockWait() time.Duration    { return orDefault(r.LockWait, time.Minute) }

// DefaultStatementTimeout is the statement timeout of migrations when none
// is configured: long enough for a CREATE INDEX CONCURRENTLY on a large
// table, short enough that a statement left running by a dead bascule ends
// within minutes.
const DefaultStatementTimeout = 10 * time.Minute

func (r *Runner) limits() Limits {
	st := r.StatementTimeout
	switch {
	case st == 0:
		st = DefaultStatementTimeout
	case st < 0:
		st = 0
	}
	return Limits{LockTimeout: r.lockTimeout(), StatementTimeout: st}
}

func (r *Runner) retries() int {
	switch {
	case r.LockRetries < 0:
		return 0
	case r.LockRetries == 0:
		return 5
	}
	return r.LockRetries
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Apply takes the migration lock of db, checks that no applied file among
// files changed (a *DriftError otherwise), and applies the others in order,
// recording them as applied by release. It returns the files it applied.
// A failing statement stops it with a *StatementError naming the file and
// line; the files before stay applied and recorded, and nothing of the
// failing file is (unless it is NO TRANSACTION: its statements before the
// failing one stay, as goose does). progress, which may be nil, receives a
// line per event.
func (r *Runner) Apply(ctx context.Context, db *sql.DB, files []*File, release string, progress func(string)) ([]*File, error) {
	progress = orDiscard(progress)
	unlock, err := r.Dialect.Lock(ctx, db, r.lockWait(), progress)
	if err != nil {
		return nil, err
	}
	done, err := r.applyLocked(ctx, db, files, release, progress)
	if uerr := unlock(); uerr != nil && err == nil {
		err = uerr
	}
	return done, err
}

// History returns the applied files recorded in db, an empty list when
// nothing was ever applied.
func (r *Runner) History(ctx context.Context, db *sql.DB) ([]Record, error) {
	h := history{r.Dialect}
	if err := h.ensure(ctx, db); err != nil {
		return nil, err
	}
	return h.load(ctx, db)
}

// prepare creates the history table if needed, checks files for drift and
// returns the applied records. The migration lock must be held. Creating
// the table waits for locks like a migration does (SQLite's write lock is
// the whole database's), so it is bounded and retried the same way.
func (r *Runner) prepare(ctx context.Context, db conn, files []*File, progress func(string)) (map[key]Record, error) {
	h := history{r.Dialect}
	if err := r.withRetries(ctx, "create "+HistoryTable, orDiscard(progress), func() error { return h.ensure(ctx, db) }); err != nil {
		return nil, err
	}
	records, err := h.load(ctx, db)
	if err != nil {
		return nil, err
	}
	applied := index(records)
	if err := checkDrift(files, applied); err != nil {
		return nil, err
	}
	return applied, nil
}

// applyLocked applies the pending files among files. The migration lock
// must be held.
func (r *Runner) applyLocked(ctx context.Context, db *sql.DB, files []*File, release string, progress func(string)) ([]*File, error) {
	progress = orDiscard(progress)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to apply migrations: %w", err)
	}
	defer conn.Close()
	if err := r.Dialect.Reset(ctx, conn, r.limits()); err != nil {
		return nil, err
	}
	// The connection goes back to the pool as it came, whatever the last
	// file set.
	defer r.Dialect.Reset(context.WithoutCancel(ctx), conn, r.limits())
	applied, err := r.prepare(ctx, conn, files, progress)
	if err != nil {
		return nil, err
	}
	todo := pending(files, applied)
	var done []*File
	for _, f := range todo {
		start := time.Now()
		if err := r.applyFile(ctx, conn, f, release, progress); err != nil {
			return done, err
		}
		done = append(done, f)
		progress(fmt.Sprintf("applied %s in %s", f.Path, time.Since(start).Round(time.Millisecond)))
	}
	return done, nil
}

// withRetries runs fn until it succeeds, fails otherwise than by a lock
// timeout, or has been retried r.retries() times, waiting with exponential
// backoff between attempts.
func (r *Runner) withRetries(ctx context.Context, what string, progress func(string), fn func() error) error {
	wait, attempts := r.backoff(), r.retries()+1
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !r.Dialect.IsLockTimeout(err) {
			return err
		}
		if attempt == attempts {
			return &LockTimeoutError{What: what, Attempts: attempts, Timeout: r.lockTimeout(), Err: err}
		}
		progress(fmt.Sprintf("%s waited more than lock_timeout %s for a lock (attempt %d of %d); retrying in %s",
			what, r.lockTimeout(), attempt, attempts, wait))
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// LockTimeoutError is a migration that kept waiting for a table lock held
// by other sessions, through all its retries. Production was never held up
// for longer than the lock timeout; nothing of the file is applied.
type LockTimeoutError struct {
	What     string
	Attempts int
	Timeout  time.Duration
	Err      error
}

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("%s gave up after %d attempts: each waited more than lock_timeout %s for a lock that other sessions hold "+
		"(long transactions on the table?); nothing of it is applied: %v", e.What, e.Attempts, e.Timeout, e.Err)
}

func (e *LockTimeoutError) Unwrap() error { return e.Err }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func orDiscard(f func(string)) func(string) {
	if f == nil {
		return func(string) {}
	}
	return f
}
