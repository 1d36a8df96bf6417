package migrate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Schema is the part of a database's schema that a release depends on, as
// a Dialect's Inspect reads it. Names are as the database spells them;
// tables outside the default schema (public, main) are qualified
// ("billing.invoices").
type Schema struct {
	Tables []Table `json:"tables"`
}

// Table is a table or a view.
type Table struct {
	Name        string       `json:"name"`
	View        bool         `json:"view,omitempty"`
	Columns     []Column     `json:"columns"`
	Indexes     []Index      `json:"indexes,omitempty"`
	Constraints []Constraint `json:"constraints,omitempty"`
}

// Column is one column of a table or view.
type Column struct {
	Name string `json:"name"`
	// Type is as the database formats it: "character varying(50)",
	// "integer", "TEXT".
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	// Default is the default expression, "" when there is none.
	Default string `json:"default,omitempty"`
	// Generated is set when the database fills the column itself (an
	// identity, a generated column, SQLite's INTEGER PRIMARY KEY): an
	// insert that leaves it out still works.
	Generated bool `json:"generated,omitempty"`
}

// Index is one index of a table.
type Index struct {
	Name   string `json:"name"`
	Unique bool   `json:"unique,omitempty"`
	// Def is the index's definition as the database prints it.
	Def string `json:"def"`
}

// Constraint kinds.
const (
	PrimaryKey = "primary key"
	Unique     = "unique"
	ForeignKey = "foreign key"
	Check      = "check"
	Exclusion  = "exclusion"
)

// Constraint is one table constraint.
type Constraint struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Def is the constraint's definition as the database prints it.
	Def string `json:"def"`
}

// Table returns the table or view called name, nil if there is none.
func (s *Schema) Table(name string) *Table {
	for i := range s.Tables {
		if s.Tables[i].Name == name {
			return &s.Tables[i]
		}
	}
	return nil
}

// Column returns the column called name, nil if there is none.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// Sort puts tables, indexes and constraints in name order (columns keep
// the table's order), so two inspections of one schema compare equal.
func (s *Schema) Sort() {
	slices.SortFunc(s.Tables, func(a, b Table) int { return cmp.Compare(a.Name, b.Name) })
	for i := range s.Tables {
		t := &s.Tables[i]
		slices.SortFunc(t.Indexes, func(a, b Index) int { return cmp.Compare(a.Name, b.Name) })
		slices.SortFunc(t.Constraints, func(a, b Constraint) int { return cmp.Compare(a.Name, b.Name) })
	}
}

// Changes summarises what other has that s does not and the reverse, in
// counts, for the deployment record ("2 tables added, 1 index added").
func (s *Schema) Changes(other *Schema) string {
	var c changeCounts
	for i := range other.Tables {
		t := &other.Tables[i]
		old := s.Table(t.Name)
		if old == nil {
			c.tables++
			continue
		}
		c.columns += countNew(t.Columns, old.Columns, func(x Column) string { return x.Name })
		c.indexes += countNew(t.Indexes, old.Indexes, func(x Index) string { return x.Name })
		c.constraints += countNew(t.Constraints, old.Constraints, func(x Constraint) string { return x.Name })
	}
	return c.String()
}

type changeCounts struct{ tables, columns, indexes, constraints int }

func (c changeCounts) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{c.tables, "table"}, {c.columns, "column"}, {c.indexes, "index"}, {c.constraints, "constraint"}} {
		if p.n > 0 {
			word := plural(p.n, p.what)
			if p.what == "index" && p.n != 1 {
				word = "indexes"
			}
			parts = append(parts, fmt.Sprintf("%d %s", p.n, word))
		}
	}
	if len(parts) == 0 {
		return "nothing added"
	}
	return strings.Join(parts, ", ") + " added"
}

// countNew counts the elements of xs whose key is not among old's.
func countNew[T any](xs, old []T, key func(T) string) int {
	n := 0
	for _, x := range xs {
		if !slices.ContainsFunc(old, func(o T) bool { return key(o) == key(x) }) {
			n++
		}
	}
	return n
}
