package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/bascule/bascule/internal/migrate"
)

// userSchema restricts n (a pg_namespace) to the app's schemas.
const userSchema = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'`

// notExtension excludes the objects an extension owns (CREATE EXTENSION
// makes them); %s is the catalog, %s the object's oid.
func notExtension(catalog, oid string) string {
	return fmt.Sprintf(`NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '%s'::regclass AND e.objid = %s AND e.deptype = 'e')`, catalog, oid)
}

// A copy step reads (what, statement) rows from production and runs the
// statements on the shadow. A strict step's failure fails the copy: the
// diff would otherwise report what is missing as broken. A best-effort
// step's failure is noted in the deployment record and skipped: these
// objects (extensions, functions, triggers) are not part of the diff, and
// a shadow without one of them still tells whether tables and columns
// survive the expand step.
type copyStep struct {
	query  string
	strict bool
}

var (
	stepSchemas = copyStep{`SELECT format('schema %I', n.nspname), format('CREATE SCHEMA IF NOT EXISTS %I', n.nspname)
FROM pg_namespace n WHERE ` + userSchema + ` AND n.nspname <> 'public' AND ` + notExtension("pg_namespace", "n.oid"), true}

	stepExtensions = copyStep{`SELECT format('extension %I', x.extname), format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I', x.extname, n.nspname)
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace WHERE x.extname <> 'plpgsql' ORDER BY x.oid`, false}

	stepEnums = copyStep{`SELECT format('type %I.%I', n.nspname, t.typname),
  format('CREATE TYPE %I.%I AS ENUM (%s)', n.nspname, t.typname, string_agg(quote_literal(v.enumlabel), ', ' ORDER BY v.enumsortorder))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum v ON v.enumtypid = t.oid
WHERE ` + userSchema + ` AND ` + notExtension("pg_type", "t.oid") + `
GROUP BY n.nspname, t.typname, t.oid ORDER BY t.oid`, true}

	stepComposites = copyStep{`SELECT format('type %I.%I', n.nspname, c.relname),
  format('CREATE TYPE %I.%I AS (%s)', n.nspname, c.relname,
    string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'c' AND ` + userSchema + ` AND ` + notExtension("pg_type", "c.reltype") + `
GROUP BY n.nspname, c.relname, c.oid ORDER BY c.oid`, true}

	stepDomains = copyStep{`SELECT format('domain %I.%I', n.nspname, t.typname),
  format('CREATE DOMAIN %I.%I AS %s', n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod))
  || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
  || coalesce(' DEFAULT ' || t.typdefault, '')
  || coalesce((SELECT string_agg(format(' CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)), '' ORDER BY k.conname)
               FROM pg_constraint k WHERE k.contypid = t.oid), '')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND ` + userSchema + ` AND ` + notExtension("pg_type", "t.oid") + ` ORDER BY t.oid`, true}

	stepFunctions = copyStep{`SELECT format('function %s', p.oid::regprocedure), pg_get_functiondef(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p') AND ` + userSchema + ` AND ` + notExtension("pg_proc", "p.oid") + ` ORDER BY p.oid`, false}

	stepSequences = copyStep{`SELECT format('sequence %I.%I', n.nspname, c.relname),
  format('CREATE SEQUENCE %I.%I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s', n.nspname, c.relname,
    format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,
    CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END)
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ` + userSchema + `
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('i', 'e'))
ORDER BY c.oid`, true}

	stepTables = copyStep{`SELECT format('table %I.%I', n.nspname, c.relname),
  CASE WHEN c.relispartition THEN
    format('CREATE TABLE %I.%I PARTITION OF %s %s', n.nspname, c.relname,
      (SELECT format('%I.%I', pn.nspname, pc.relname) FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
       JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid),
      pg_get_expr(c.relpartbound, c.oid))
  ELSE
    format('CREATE %sTABLE %I.%I (%s)', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, n.nspname, c.relname,
      coalesce((SELECT string_agg(` + columnDef + `, ', ' ORDER BY a.attnum)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), ''))
  END
  || CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND ` + userSchema + ` AND ` + notExtension("pg_class", "c.oid") + `
ORDER BY c.relispartition, c.oid`, true}

	stepSequenceOwners = copyStep{`SELECT format('owner of sequence %I.%I', sn.nspname, s.relname),
  format('ALTER SEQUENCE %I.%I OWNED BY %I.%I.%I', sn.nspname, s.relname, n.nspname, t.relname, a.attname)
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND ` + userSchema, false}

	stepConstraints = constraintStep(`con.contype IN ('p', 'u', 'c', 'x')`)
	stepForeignKeys = constraintStep(`con.contype = 'f'`)
	stepIndexes     = indexStep(`c.relkind IN ('r', 'p')`)
	stepViewIndexes = indexStep(`c.relkind = 'm'`)
	stepViewsQuery  = `SELECT format('view %I.%I', n.nspname, c.relname),
  format(CASE WHEN c.relkind = 'v' THEN 'CREATE VIEW %I.%I AS %s' ELSE 'CREATE MATERIALIZED VIEW %I.%I AS %s WITH NO DATA' END,
    n.nspname, c.relname, rtrim(pg_get_viewdef(c.oid), '; '))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND ` + userSchema + ` AND ` + notExtension("pg_class", "c.oid") + ` ORDER BY c.oid`
	stepTriggers = copyStep{`SELECT format('trigger %I on %I.%I', t.tgname, n.nspname, c.relname), pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ` + userSchema + ` ORDER BY t.oid`, false}
)

// columnDef deparses attribute a (with its default d) of a table.
const columnDef = `format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
  || coalesce((SELECT format(' COLLATE %I.%I', cn.nspname, co.collname) FROM pg_collation co
      JOIN pg_namespace cn ON cn.oid = co.collnamespace JOIN pg_type ty ON ty.oid = a.atttypid
      WHERE co.oid = a.attcollation AND a.attcollation <> ty.typcollation), '')
  || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
          WHEN a.attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
          WHEN a.attidentity = 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY'
          WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid)
          ELSE '' END
  || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END`

// constraintStep copies the table constraints matching cond; those a
// partition inherits come with it.
func constraintStep(cond string) copyStep {
	return copyStep{`SELECT format('constraint %I on %I.%I', con.conname, n.nspname, c.relname),
  format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid))
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ` + cond + ` AND con.conislocal AND con.conparentid = 0 AND ` + userSchema + ` AND ` + notExtension("pg_class", "c.oid") + `
ORDER BY c.oid, con.conname`, true}
}

// indexStep copies the indexes of relations matching cond, except those
// that back a constraint (the constraint made them) or a partitioned
// index's partitions (the parent index makes them).
func indexStep(cond string) copyStep {
	return copyStep{`SELECT format('index %I', i.relname), pg_get_indexdef(ix.indexrelid)
FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ` + cond + ` AND ` + userSchema + ` AND ` + notExtension("pg_class", "c.oid") + `
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid AND k.conrelid = ix.indrelid AND k.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = ix.indexrelid)
ORDER BY i.oid`, true}
}

// copySchema recreates production's schema on the shadow, in dependency
// order, in one transaction: schemas, extensions (attempted), types
// (enums, composites, domains), functions (attempted, bodies unchecked),
// sequences, tables with columns, defaults, identities and partitions,
// sequence ownership (attempted), constraints, indexes, foreign keys,
// views and materialized views (retried until their dependencies exist),
// triggers (attempted), and the rows of bascule_migrations. Grants,
// policies, rules, comments and statistics are not copied: the diff does
// not look at them and the expand step rarely depends on them.
func copySchema(ctx context.Context, live, shadow *sql.DB, note func(string)) error {
	tx, err := shadow.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL check_function_bodies = off"); err != nil {
		return err
	}
	c := &copier{live: live, tx: tx, note: note}
	for _, st := range []copyStep{stepSchemas, stepExtensions, stepEnums, stepComposites, stepDomains, stepFunctions,
		stepSequences, stepTables, stepSequenceOwners, stepConstraints, stepIndexes, stepForeignKeys} {
		if err := c.run(ctx, st); err != nil {
			return err
		}
	}
	if err := c.views(ctx); err != nil {
		return err
	}
	for _, st := range []copyStep{stepViewIndexes, stepTriggers} {
		if err := c.run(ctx, st); err != nil {
			return err
		}
	}
	if err := c.history(ctx); err != nil {
		return err
	}
	return tx.Commit()
}

type copier struct {
	live *sql.DB
	tx   *sql.Tx
	note func(string)
}

// ddl is one statement to run on the shadow and what it creates.
type ddl struct{ what, sql string }

func (c *copier) read(ctx context.Context, query string) ([]ddl, error) {
	var out []ddl
	err := migrate.EachRow(ctx, c.live, query, func(rows *sql.Rows) error {
		var d ddl
		if err := rows.Scan(&d.what, &d.sql); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the live schema: %w", err)
	}
	return out, nil
}

func (c *copier) run(ctx context.Context, st copyStep) error {
	stmts, err := c.read(ctx, st.query)
	if err != nil {
		return err
	}
	for _, d := range stmts {
		err := c.try(ctx, d.sql)
		switch {
		case err == nil:
		case st.strict:
			return fmt.Errorf("create %s: %w", d.what, err)
		default:
			c.note(fmt.Sprintf("%s not copied: %v", d.what, err))
		}
	}
	return nil
}

// try runs one statement under a savepoint, so that a failure leaves the
// transaction usable.
func (c *copier) try(ctx context.Context, stmt string) error {
	if _, err := c.tx.ExecContext(ctx, "SAVEPOINT copy"); err != nil {
		return err
	}
	if _, err := c.tx.ExecContext(ctx, stmt); err != nil {
		if _, rerr := c.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT copy"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := c.tx.ExecContext(ctx, "RELEASE SAVEPOINT copy")
	return err
}

// views creates views in passes until none is left or a pass makes no
// progress: a view may select from a view created after it.
func (c *copier) views(ctx context.Context) error {
	todo, err := c.read(ctx, stepViewsQuery)
	if err != nil {
		return err
	}
	for len(todo) > 0 {
		var left []ddl
		var lastErr error
		for _, d := range todo {
			if err := c.try(ctx, d.sql); err != nil {
				left, lastErr = append(left, d), fmt.Errorf("create %s: %w", d.what, err)
			}
		}
		if len(left) == len(todo) {
			return lastErr
		}
		todo = left
	}
	return nil
}

// history copies the rows of bascule_migrations, so that the shadow has
// the same pending files as production.
func (c *copier) history(ctx context.Context) error {
	var exists bool
	if err := c.live.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", migrate.HistoryTable).Scan(&exists); err != nil || !exists {
		return err
	}
	rows, err := c.live.QueryContext(ctx, "SELECT phase, version, name, checksum, applied_at, release FROM "+migrate.HistoryTable)
	if err != nil {
		return fmt.Errorf("read %s: %w", migrate.HistoryTable, err)
	}
	defer rows.Close()
	insert := "INSERT INTO " + migrate.HistoryTable + " (phase, version, name, checksum, applied_at, release) VALUES ($1, $2, $3, $4, $5, $6)"
	for rows.Next() {
		vals := make([]any, 6)
		ptrs := make([]any, 6)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", migrate.HistoryTable, err)
		}
		if _, err := c.tx.ExecContext(ctx, insert, vals...); err != nil {
			return fmt.Errorf("copy %s: %w", migrate.HistoryTable, err)
		}
	}
	return rows.Err()
}
