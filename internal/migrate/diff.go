package migrate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// BreakKind names what in a schema change breaks the live release.
type BreakKind string

// The changes that break a release which was written against the old
// schema and keeps running against the new one.
const (
	TableGone             BreakKind = "table-gone"
	TableRenamed          BreakKind = "table-renamed"
	ColumnGone            BreakKind = "column-gone"
	ColumnRenamed         BreakKind = "column-renamed"
	TypeChanged           BreakKind = "type-changed"
	NotNullWithoutDefault BreakKind = "not-null-without-default"
)

// Breakage is one change of the schema that would break the live release.
type Breakage struct {
	Kind   BreakKind `json:"kind"`
	Table  string    `json:"table"`
	Column string    `json:"column,omitempty"`
	// To is the new name of a renamed table or column, the new type of a
	// changed column.
	To string `json:"to,omitempty"`
	// Message says what breaks and the safe way to get there.
	Message string `json:"message"`
}

func (b Breakage) String() string { return b.Message }

// Diff compares the schema the live release runs against with the schema
// after the expand step (replayed on a shadow copy) and returns what would
// break the live release: a table or column it has that is gone or
// renamed, a column whose type changed, a new column of an existing table
// that is NOT NULL without a default (the live release's inserts do not set
// it). Adding is always fine. A rename is told apart from a removal when
// exactly one new table (column) looks like the old one; both break.
func Diff(live, shadow *Schema) []Breakage {
	var out []Breakage
	for i := range live.Tables {
		old := &live.Tables[i]
		cur := shadow.Table(old.Name)
		if cur == nil || cur.View != old.View {
			out = append(out, tableGone(old, live, shadow))
			continue
		}
		out = append(out, diffColumns(old, cur)...)
	}
	return out
}

func tableGone(old *Table, live, shadow *Schema) Breakage {
	kind := kindOf(old)
	b := Breakage{Kind: TableGone, Table: old.Name, Message: fmt.Sprintf(
		"%s %s is gone; the live release still uses it (remove it in a contract migration, once no running release needs it)",
		kind, old.Name)}
	var candidates []string
	for i := range shadow.Tables {
		t := &shadow.Tables[i]
		if live.Table(t.Name) == nil && t.View == old.View && hasColumnsOf(t, old) {
			candidates = append(candidates, t.Name)
		}
	}
	if len(candidates) == 1 {
		b.Kind, b.To = TableRenamed, candidates[0]
		b.Message = fmt.Sprintf("%s %s is renamed to %s; the live release still uses the old name "+
			"(create %s beside it, write to both, move the readers, then drop %s in a contract migration)",
			kind, old.Name, b.To, b.To, old.Name)
	}
	return b
}

// hasColumnsOf reports whether t has every column of old, by name.
func hasColumnsOf(t, old *Table) bool {
	for _, c := range old.Columns {
		if t.Column(c.Name) == nil {
			return false
		}
	}
	return true
}

func diffColumns(old, cur *Table) []Breakage {
	var out []Breakage
	for _, oc := range old.Columns {
		nc := cur.Column(oc.Name)
		switch {
		case nc == nil:
			out = append(out, columnGone(old, cur, oc))
		case !compatibleType(oc.Type, nc.Type):
			out = append(out, Breakage{Kind: TypeChanged, Table: old.Name, Column: oc.Name, To: nc.Type,
				Message: fmt.Sprintf("column %s.%s changes type from %s to %s; the live release reads and writes %s "+
					"(add a column of the new type, write to both, backfill, move the readers, then drop the old one in a contract migration)",
					old.Name, oc.Name, oc.Type, nc.Type, oc.Type)})
		}
	}
	if cur.View {
		return out
	}
	for _, nc := range cur.Columns {
		if old.Column(nc.Name) == nil && nc.NotNull && nc.Default == "" && !nc.Generated {
			out = append(out, Breakage{Kind: NotNullWithoutDefault, Table: old.Name, Column: nc.Name,
				Message: fmt.Sprintf("new column %s.%s is NOT NULL without a default; inserts by the live release, which does not set it, "+
					"would fail (add it nullable or with a default; require it in a later release)", old.Name, nc.Name)})
		}
	}
	return out
}

func columnGone(old, cur *Table, oc Column) Breakage {
	b := Breakage{Kind: ColumnGone, Table: old.Name, Column: oc.Name, Message: fmt.Sprintf(
		"column %s.%s is gone; the live release still uses it (drop it in a contract migration, once no running release needs it)",
		old.Name, oc.Name)}
	var candidates []string
	for _, nc := range cur.Columns {
		if old.Column(nc.Name) == nil && strings.EqualFold(nc.Type, oc.Type) {
			candidates = append(candidates, nc.Name)
		}
	}
	if len(candidates) == 1 {
		b.Kind, b.To = ColumnRenamed, candidates[0]
		b.Message = fmt.Sprintf("column %s.%s is renamed to %s; the live release still uses the old name "+
			"(add %s, write to both, backfill, move the readers, then drop %s in a contract migration)",
			old.Name, oc.Name, b.To, b.To, oc.Name)
	}
	return b
}

func kindOf(t *Table) string {
	if t.View {
		return "view"
	}
	return "table"
}

// compatibleType reports whether a column of type old may become type cur
// without breaking a release that reads and writes old: the same type, a
// wider varchar, text from varchar, or a numeric of the same scale and at
// least the precision.
func compatibleType(old, cur string) bool {
	if strings.EqualFold(old, cur) {
		return true
	}
	if base, mods := splitType(old); base == "numeric" && len(mods) > 0 {
		curBase, curMods := splitType(cur)
		switch {
		case curBase != "numeric":
			return false
		case len(curMods) == 0:
			return true
		}
		return len(curMods) == len(mods) && curMods[0] >= mods[0] && (len(mods) == 1 || curMods[1] == mods[1])
	}
	n, ok := varcharLen(old)
	if !ok {
		return false
	}
	if strings.EqualFold(cur, "text") {
		return true
	}
	m, ok := varcharLen(cur)
	return ok && (m == 0 || (n != 0 && m >= n))
}

// varcharLen returns the length of a "character varying(n)" or
// "varchar(n)" type, 0 for an unbounded one; ok is false for other types.
func varcharLen(typ string) (n int, ok bool) {
	t := strings.ToLower(strings.TrimSpace(typ))
	for _, prefix := range []string{"character varying", "varchar"} {
		rest, found := strings.CutPrefix(t, prefix)
		if !found {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return 0, true
		}
		inner, found := strings.CutPrefix(rest, "(")
		inner, closed := strings.CutSuffix(inner, ")")
		if !found || !closed {
			return 0, false
		}
		v, err := strconv.Atoi(strings.TrimSpace(inner))
		return v, err == nil && v > 0
	}
	return 0, false
}

// formatBreakages lists breakages one per line, indented, in a stable order.
func formatBreakages(bs []Breakage) string {
	lines := make([]string, len(bs))
	for i, b := range bs {
		lines[i] = "  - " + b.Message
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
