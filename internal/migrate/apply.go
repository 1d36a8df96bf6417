package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"
)

// StatementError is a statement of a migration file that the database
// refused. It reads "expand/003_x.sql:7: <the database's message>".
type StatementError struct {
	Path string
	// Line is the 1-based line of the file where the error is: the
	// statement's, or more precisely where the database says it failed.
	Line int
	Err  error
}

func (e *StatementError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }

func (e *StatementError) Unwrap() error { return e.Err }

// applyFile applies f on conn, retrying after lock timeouts.
func (r *Runner) applyFile(ctx context.Context, conn *sql.Conn, f *File, release string, progress func(string)) error {
	if f.NoTransaction {
		return r.applyEach(ctx, conn, f, release, progress)
	}
	return r.withRetries(ctx, f.Path, progress, func() error {
		return r.applyInTx(ctx, conn, f, release)
	})
}

// applyInTx runs all of f's statements and records f in one transaction:
// either all of it is applied and recorded, or none.
// The session is reset first, so that the settings of the files before
// (a SET lock_timeout = 0, say) do not apply to it, and again before the
// record, so that f's own settings (an empty search_path) do not affect it.
func (r *Runner) applyInTx(ctx context.Context, conn *sql.Conn, f *File, release string) error {
	if err := r.Dialect.Reset(ctx, conn, r.limits()); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s: %w", f.Path, err)
	}
	defer tx.Rollback()
	for i := range f.Statements {
		if err := r.exec(ctx, tx, f, &f.Statements[i]); err != nil {
			return err
		}
	}
	if err := r.Dialect.Reset(ctx, tx, r.limits()); err != nil {
		return err
	}
	if err := (history{r.Dialect}).record(ctx, tx, f, release, r.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", f.Path, err)
	}
	return nil
}

// applyEach runs f's statements one by one outside any transaction (for
// CREATE INDEX CONCURRENTLY and the like), retrying each after lock
// timeouts, then records f. As in a transaction, the session is reset
// before the first statement and before the record: a SET in f holds for
// the rest of f (the lint refuses one that lifts the timeouts), not after.
func (r *Runner) applyEach(ctx context.Context, conn *sql.Conn, f *File, release string, progress func(string)) error {
	if err := r.Dialect.Reset(ctx, conn, r.limits()); err != nil {
		return err
	}
	for i := range f.Statements {
		st := &f.Statements[i]
		what := fmt.Sprintf("%s:%d", f.Path, st.Line)
		if err := r.withRetries(ctx, what, progress, func() error { return r.exec(ctx, conn, f, st) }); err != nil {
			return err
		}
	}
	if err := r.Dialect.Reset(ctx, conn, r.limits()); err != nil {
		return err
	}
	return (history{r.Dialect}).record(ctx, conn, f, release, r.now())
}

// exec runs one statement, turning a failure into a *StatementError.
func (r *Runner) exec(ctx context.Context, ex execer, f *File, st *Statement) error {
	_, err := ex.ExecContext(ctx, st.SQL)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &StatementError{Path: f.Path, Line: st.Line + linesBefore(st.SQL, r.Dialect.ErrorPosition(err)), Err: err}
}

// linesBefore counts the line breaks before the pos-th character (1-based)
// of sql; 0 when pos is unknown.
func linesBefore(sql string, pos int) int {
	if pos <= 1 {
		return 0
	}
	off, chars := 0, 1
	for off < len(sql) && chars < pos {
		_, size := utf8.DecodeRuneInString(sql[off:])
		off += size
		chars++
	}
	return strings.Count(sql[:off], "\n")
}
