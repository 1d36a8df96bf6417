package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bascule/bascule/internal/migrate"
)

// userRelations restricts a query over pg_class c joined to pg_namespace n
// to the app's tables and views: not the system's, not an extension's, not
// a partition (its parent stands for it).
const userRelations = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')`

// relName names a relation "table" in public, "schema.table" elsewhere.
const relName = `CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END`

const columnsQuery = `SELECT ` + relName + `, c.relkind IN ('v', 'm'), a.attname, format_type(a.atttypid, a.atttypmod),
  a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity <> '' OR a.attgenerated <> ''
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND ` + userRelations + `
ORDER BY 1, a.attnum`

const indexesQuery = `SELECT ` + relName + `, i.relname, ix.indisunique, pg_get_indexdef(ix.indexrelid)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ` + userRelations

const constraintsQuery = `SELECT ` + relName + `, con.conname, con.contype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND ` + userRelations

// Inspect reads the schema from pg_catalog: every table, partitioned
// table, view and materialized view outside the system schemas, with
// columns, indexes and constraints. Foreign tables are left out: a shadow
// cannot recreate them without their servers.
func (Dialect) Inspect(ctx context.Context, db *sql.DB) (*migrate.Schema, error) {
	b := &builder{tables: map[string]*migrate.Table{}}
	if err := b.columns(ctx, db); err != nil {
		return nil, fmt.Errorf("inspect columns: %w", err)
	}
	if err := b.indexes(ctx, db); err != nil {
		return nil, fmt.Errorf("inspect indexes: %w", err)
	}
	if err := b.constraints(ctx, db); err != nil {
		return nil, fmt.Errorf("inspect constraints: %w", err)
	}
	return b.schema(), nil
}

// builder assembles a Schema from catalog rows.
type builder struct {
	tables map[string]*migrate.Table
	order  []string
}

func (b *builder) table(name string, view bool) *migrate.Table {
	t, ok := b.tables[name]
	if !ok {
		t = &migrate.Table{Name: name, View: view}
		b.tables[name] = t
		b.order = append(b.order, name)
	}
	return t
}

func (b *builder) schema() *migrate.Schema {
	s := &migrate.Schema{}
	for _, name := range b.order {
		if name == migrate.HistoryTable {
			continue
		}
		s.Tables = append(s.Tables, *b.tables[name])
	}
	s.Sort()
	return s
}

func (b *builder) columns(ctx context.Context, db *sql.DB) error {
	return migrate.EachRow(ctx, db, columnsQuery, func(rows *sql.Rows) error {
		var table string
		var view bool
		var name, typ, def sql.NullString
		var notNull, generated sql.NullBool
		if err := rows.Scan(&table, &view, &name, &typ, &notNull, &def, &generated); err != nil {
			return err
		}
		t := b.table(table, view)
		if name.Valid {
			t.Columns = append(t.Columns, migrate.Column{Name: name.String, Type: typ.String, NotNull: notNull.Bool,
				Default: def.String, Generated: generated.Bool})
		}
		return nil
	})
}

func (b *builder) indexes(ctx context.Context, db *sql.DB) error {
	return migrate.EachRow(ctx, db, indexesQuery, func(rows *sql.Rows) error {
		var table string
		var ix migrate.Index
		if err := rows.Scan(&table, &ix.Name, &ix.Unique, &ix.Def); err != nil {
			return err
		}
		if t, ok := b.tables[table]; ok {
			t.Indexes = append(t.Indexes, ix)
		}
		return nil
	})
}

var constraintKinds = map[string]string{
	"p": migrate.PrimaryKey, "u": migrate.Unique, "f": migrate.ForeignKey, "c": migrate.Check, "x": migrate.Exclusion,
}

func (b *builder) constraints(ctx context.Context, db *sql.DB) error {
	return migrate.EachRow(ctx, db, constraintsQuery, func(rows *sql.Rows) error {
		var table, kind string
		var c migrate.Constraint
		if err := rows.Scan(&table, &c.Name, &kind, &c.Def); err != nil {
			return err
		}
		c.Kind = constraintKinds[kind]
		if t, ok := b.tables[table]; ok {
			t.Constraints = append(t.Constraints, c)
		}
		return nil
	})
}
