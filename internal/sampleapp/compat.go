package sampleapp

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Compat is the app's own check that it still works against a database
// schema, the kind of command bascule runs as migrate.compat_command: from
// the live release's directory, against a shadow copy of the schema after
// the next release's expand step. It writes a row and reads the table
// exactly as the app's /rows endpoints do, in a transaction it rolls back,
// so it leaves the database as it found it. A schema that refuses the
// app's writes (a new CHECK, NOT NULL or foreign key it does not satisfy)
// or has lost what it reads makes it fail with the database's error.
func Compat(ctx context.Context, o Options, out io.Writer) error {
	if o.DB.URL == "" || o.DB.Table == "" {
		fmt.Fprintf(out, "compat: %s uses no database table; nothing to check\n", o.Release)
		return nil
	}
	t := &rows{release: o.Release, cfg: o.DB}
	db, err := t.open()
	if err != nil {
		return fmt.Errorf("compat: open the database: %w", err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("compat: %w", err)
	}
	defer tx.Rollback()
	q, args := t.insertSQL("compat-check")
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("compat: %s cannot write to %s as it does in production: %s: %w", o.Release, o.DB.Table, q, err)
	}
	res, err := tx.QueryContext(ctx, t.listSQL())
	if err != nil {
		return fmt.Errorf("compat: %s cannot read %s as it does in production: %w", o.Release, o.DB.Table, err)
	}
	res.Close()
	if err := errors.Join(res.Err(), tx.Rollback()); err != nil {
		return fmt.Errorf("compat: %w", err)
	}
	fmt.Fprintf(out, "compat: %s writes and reads %s (%d columns) against this schema\n", o.Release, o.DB.Table, len(o.DB.Columns))
	return nil
}
