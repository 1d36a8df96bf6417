package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/bascule/bascule/internal/migrate"
)

// Inspect reads the schema from sqlite_master and the table pragmas.
// SQLite keeps no catalog of CHECK constraints, so they are not listed;
// primary keys, unique constraints and foreign keys are.
func (Dialect) Inspect(ctx context.Context, db *sql.DB) (*migrate.Schema, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect schema: %w", err)
	}
	defer conn.Close()
	tables, err := listTables(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("inspect schema: %w", err)
	}
	s := &migrate.Schema{}
	for _, t := range tables {
		if err := inspectTable(ctx, conn, &t); err != nil {
			return nil, fmt.Errorf("inspect %s: %w", t.Name, err)
		}
		s.Tables = append(s.Tables, t)
	}
	s.Sort()
	return s, nil
}

func listTables(ctx context.Context, conn *sql.Conn) ([]migrate.Table, error) {
	shadowTables := virtualShadowTables(ctx, conn)
	rows, err := conn.QueryContext(ctx, `SELECT name, type FROM sqlite_master
WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []migrate.Table
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		if name == migrate.HistoryTable || shadowTables[name] {
			continue
		}
		out = append(out, migrate.Table{Name: name, View: typ == "view"})
	}
	return out, rows.Err()
}

// virtualShadowTables lists the tables a virtual table (FTS, R*Tree) keeps
// its data in: they come and go with it.
func virtualShadowTables(ctx context.Context, conn *sql.Conn) map[string]bool {
	out := map[string]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'`)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			out[n] = true
		}
	}
	return out
}

func inspectTable(ctx context.Context, conn *sql.Conn, t *migrate.Table) error {
	pk, err := columns(ctx, conn, t)
	if err != nil {
		return err
	}
	if len(pk) > 0 && !t.View {
		t.Constraints = append(t.Constraints, migrate.Constraint{Name: "primary key", Kind: migrate.PrimaryKey,
			Def: "PRIMARY KEY (" + strings.Join(pk, ", ") + ")"})
	}
	if t.View {
		return nil
	}
	if err := indexes(ctx, conn, t); err != nil {
		return err
	}
	return foreignKeys(ctx, conn, t)
}

// columns reads t's columns and returns its primary key's, in key order.
func columns(ctx context.Context, conn *sql.Conn, t *migrate.Table) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, type, "notnull", coalesce(dflt_value, ''), pk, hidden
FROM pragma_table_xinfo(?) ORDER BY cid`, t.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	pk := map[int]string{}
	for rows.Next() {
		var c migrate.Column
		var keyPos, hidden int
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &c.Default, &keyPos, &hidden); err != nil {
			return nil, err
		}
		if hidden == 1 {
			continue // a virtual table's hidden column
		}
		c.Generated = hidden >= 2
		if keyPos > 0 {
			pk[keyPos] = c.Name
		}
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	keys := make([]string, len(pk))
	for i := range keys {
		keys[i] = pk[i+1]
	}
	// A lone INTEGER PRIMARY KEY is the rowid: SQLite fills it.
	if len(keys) == 1 {
		if c := t.Column(keys[0]); c != nil && strings.EqualFold(c.Type, "INTEGER") {
			c.Generated = true
		}
	}
	return keys, nil
}

func indexes(ctx context.Context, conn *sql.Conn, t *migrate.Table) error {
	type entry struct {
		name   string
		unique bool
		origin string
	}
	var list []entry
	err := migrate.EachRow(ctx, conn, `SELECT name, "unique", origin FROM pragma_index_list(?)`, func(rows *sql.Rows) error {
		var e entry
		if err := rows.Scan(&e.name, &e.unique, &e.origin); err != nil {
			return err
		}
		list = append(list, e)
		return nil
	}, t.Name)
	if err != nil {
		return err
	}
	for _, e := range list {
		cols, err := indexColumns(ctx, conn, e.name)
		if err != nil {
			return err
		}
		def := indexDef(ctx, conn, e.name)
		if def == "" {
			def = "UNIQUE (" + strings.Join(cols, ", ") + ")"
		}
		t.Indexes = append(t.Indexes, migrate.Index{Name: e.name, Unique: e.unique, Def: def})
		if e.origin == "u" {
			t.Constraints = append(t.Constraints, migrate.Constraint{Name: e.name, Kind: migrate.Unique,
				Def: "UNIQUE (" + strings.Join(cols, ", ") + ")"})
		}
	}
	return nil
}

func indexColumns(ctx context.Context, conn *sql.Conn, index string) ([]string, error) {
	var cols []string
	err := migrate.EachRow(ctx, conn, `SELECT coalesce(name, '<expression>') FROM pragma_index_info(?) ORDER BY seqno`, func(rows *sql.Rows) error {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		cols = append(cols, c)
		return nil
	}, index)
	return cols, err
}

// indexDef is the CREATE INDEX statement, "" for an index SQLite made for
// a constraint.
func indexDef(ctx context.Context, conn *sql.Conn, index string) string {
	var def sql.NullString
	conn.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, index).Scan(&def)
	return def.String
}

func foreignKeys(ctx context.Context, conn *sql.Conn, t *migrate.Table) error {
	type fk struct {
		table    string
		from, to []string
	}
	byID := map[int]*fk{}
	var ids []int
	err := migrate.EachRow(ctx, conn, `SELECT id, "table", "from", coalesce("to", '') FROM pragma_foreign_key_list(?) ORDER BY id, seq`,
		func(rows *sql.Rows) error {
			var id int
			var table, from, to string
			if err := rows.Scan(&id, &table, &from, &to); err != nil {
				return err
			}
			f, ok := byID[id]
			if !ok {
				f = &fk{table: table}
				byID[id] = f
				ids = append(ids, id)
			}
			f.from, f.to = append(f.from, from), append(f.to, to)
			return nil
		}, t.Name)
	if err != nil {
		return err
	}
	for _, id := range ids {
		f := byID[id]
		def := fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s (%s)", strings.Join(f.from, ", "), f.table, strings.Join(f.to, ", "))
		// SQLite does not keep foreign keys' names: name them by what they
		// link, which stays stable from one inspection to the next.
		name := fmt.Sprintf("%s_%s_fkey", t.Name, strings.Join(f.from, "_"))
		t.Constraints = append(t.Constraints, migrate.Constraint{Name: name, Kind: migrate.ForeignKey, Def: def})
	}
	return nil
}
