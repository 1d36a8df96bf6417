package migrate

import (
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Risk is a change of the schema that the live release survives only if
// its writes comply: a new constraint, unique index or NOT NULL on a table
// it writes. No diff can tell whether they do, so a risk does not refuse
// the release; the live release's own checks can (migrate.compat_command).
type Risk struct {
	Table string `json:"table"`
	// What is the new rule, as the database prints it:
	// "constraint users_email_required CHECK ((email IS NOT NULL)) NOT VALID".
	What string `json:"what"`
}

func (r Risk) String() string { return r.Table + ": " + r.What }

// Risks compares the schema the live release runs against with the schema
// after the expand step and returns what narrows what the live release
// may write to the tables it already has.
func Risks(live, shadow *Schema) []Risk {
	var out []Risk
	for i := range live.Tables {
		old := &live.Tables[i]
		cur := shadow.Table(old.Name)
		if old.View || cur == nil || cur.View {
			continue
		}
		out = append(out, tableRisks(old, cur)...)
	}
	return out
}

func tableRisks(old, cur *Table) []Risk {
	var out []Risk
	constraints := map[string]bool{}
	for _, c := range cur.Constraints {
		constraints[c.Name] = true
		if !newConstraint(old, c) || !narrows(old, "ALTER TABLE t ADD CONSTRAINT c "+c.Def) {
			continue
		}
		out = append(out, Risk{old.Name, fmt.Sprintf("constraint %s %s", c.Name, c.Def)})
	}
	for _, ix := range cur.Indexes {
		// A unique constraint brings its index: it is reported once.
		if ix.Unique && !constraints[ix.Name] && !slices.Contains(old.Indexes, ix) && narrows(old, ix.Def) {
			out = append(out, Risk{old.Name, ix.Def})
		}
	}
	for _, c := range cur.Columns {
		if oc := old.Column(c.Name); oc != nil && c.NotNull && !oc.NotNull {
			out = append(out, Risk{old.Name, "column " + c.Name + " NOT NULL"})
		}
	}
	return out
}

// formatRisks lists risks on one line for the deployment record.
func formatRisks(rs []Risk) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, "; ")
}

// newConstraint reports whether c is not among old's constraints. A
// constraint that was NOT VALID and is now validated is not new: it
// checked every write already.
func newConstraint(old *Table, c Constraint) bool {
	for _, o := range old.Constraints {
		if o.Name == c.Name && (o.Def == c.Def || strings.TrimSuffix(o.Def, " NOT VALID") == c.Def) {
			return false
		}
	}
	return true
}

// narrows reports whether the constraint or unique index that stmt adds
// (the database's own definition, parsed again) may refuse a write of a
// release that knows only old's columns: it does unless it covers only
// columns old lacks and lets their NULLs through. When in doubt, it does.
func narrows(old *Table, stmt string) bool {
	tree, err := pg_query.Parse(stmt)
	if err != nil || len(tree.GetStmts()) != 1 {
		return true
	}
	var cols []string
	nullOK := false
	switch n := tree.GetStmts()[0].GetStmt(); {
	case n.GetAlterTableStmt() != nil:
		cmds := n.GetAlterTableStmt().GetCmds()
		if len(cmds) != 1 {
			return true
		}
		con := cmds[0].GetAlterTableCmd().GetDef().GetConstraint()
		cols, nullOK = constraintColumns(con), nullPasses(con)
	case n.GetIndexStmt() != nil:
		ix := n.GetIndexStmt()
		for _, p := range ix.GetIndexParams() {
			if p.GetIndexElem().GetName() == "" {
				return true // an expression
			}
			cols = append(cols, p.GetIndexElem().GetName())
		}
		nullOK = !ix.GetNullsNotDistinct()
	default:
		return true
	}
	if len(cols) == 0 || !nullOK {
		return true
	}
	for _, c := range cols {
		if old.Column(c) != nil {
			return true
		}
	}
	return false
}
