package migrate

import (
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// widens reports whether ALTER COLUMN … TYPE def only widens the column,
// judged against its current type in the live schema: PostgreSQL then
// neither rewrites nor scans the table, and the live release reads and
// writes the new type as it did the old. Offline (no schema) it cannot
// tell.
func (l *linter) widens(table, col string, def *pg_query.ColumnDef) bool {
	if l.schema == nil || def.GetRawDefault() != nil || def.GetCollClause() != nil {
		return false // a USING expression or a new collation rewrites
	}
	t := l.schema.Table(table)
	if t == nil || t.View {
		return false
	}
	c := t.Column(col)
	if c == nil {
		return false
	}
	return widening(c.Type, def.GetTypeName())
}

// widening reports whether a column of type old (as format_type prints
// it) becomes tn without a rewrite or a scan: varchar to a longer varchar,
// to varchar or to text; numeric to a numeric of the same scale and at
// least the precision, or to numeric.
func widening(old string, tn *pg_query.TypeName) bool {
	if len(tn.GetArrayBounds()) > 0 {
		return false
	}
	base, mods := splitType(old)
	newBase, newMods := typeName(tn), typmods(tn)
	switch base {
	case "character varying":
		switch newBase {
		case "text":
			return true
		case "varchar":
			return len(newMods) == 0 || (len(mods) == 1 && len(newMods) == 1 && newMods[0] >= mods[0])
		}
	case "text":
		return newBase == "text"
	case "numeric":
		if newBase != "numeric" {
			return false
		}
		switch {
		case len(newMods) == 0:
			return true
		case len(mods) == 0:
			return false
		}
		scale, newScale := 0, 0
		if len(mods) == 2 {
			scale = mods[1]
		}
		if len(newMods) == 2 {
			newScale = newMods[1]
		}
		return newScale == scale && newMods[0] >= mods[0]
	}
	return false
}

// splitType splits "character varying(100)" into its base and modifiers.
func splitType(t string) (string, []int) {
	base, rest, ok := strings.Cut(strings.ToLower(strings.TrimSpace(t)), "(")
	if !ok {
		return base, nil
	}
	var mods []int
	for _, m := range strings.Split(strings.TrimSuffix(rest, ")"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(m))
		if err != nil {
			return base, nil
		}
		mods = append(mods, n)
	}
	return strings.TrimSpace(base), mods
}

// typmods returns a type name's integer modifiers: varchar(100) → [100].
func typmods(tn *pg_query.TypeName) []int {
	var out []int
	for _, n := range tn.GetTypmods() {
		c := n.GetAConst()
		if c == nil || c.GetIval() == nil {
			return nil
		}
		out = append(out, int(c.GetIval().GetIval()))
	}
	return out
}
