package migrate

import (
	"fmt"
	"slices"
	"strings"
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
		if !slices.Contains(old.Constraints, c) {
			out = append(out, Risk{old.Name, fmt.Sprintf("constraint %s %s", c.Name, c.Def)})
		}
	}
	for _, ix := range cur.Indexes {
		// A unique constraint brings its index: it is reported once.
		if ix.Unique && !constraints[ix.Name] && !slices.Contains(old.Indexes, ix) {
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
