package migrate

import (
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rules about ALTER TABLE … ADD CONSTRAINT on existing tables: checking or
// indexing every existing row while holding a lock that stops writes.

func (l *linter) checkAddConstraint(table string, c *pg_query.Constraint) {
	l.checkNarrows(table, c)
	switch c.GetContype() {
	case pg_query.ConstrType_CONSTR_CHECK, pg_query.ConstrType_CONSTR_FOREIGN:
		l.remember(table, c)
		if !c.GetSkipValidation() {
			l.reportValidated(table, c)
		}
	case pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_PRIMARY:
		if c.GetIndexname() == "" {
			l.reportUnique(table, c)
		}
	}
}

// remember records what later statements need to know about a constraint:
// that it was added NOT VALID here, and which column a CHECK (col IS NOT
// NULL) covers.
func (l *linter) remember(table string, c *pg_query.Constraint) {
	key := table + "." + c.GetConname()
	if c.GetSkipValidation() {
		l.seen.notValid[key] = l.file.Path
	}
	if col := notNullColumn(c); col != "" {
		l.seen.notNullChecks[key] = col
		if !c.GetSkipValidation() {
			l.seen.provenNotNull[table+"."+col] = true
		}
	}
}

func (l *linter) reportValidated(table string, c *pg_query.Constraint) {
	name, kind := constraintName(c), "CHECK"
	if c.GetContype() == pg_query.ConstrType_CONSTR_FOREIGN {
		kind = "FOREIGN KEY"
	}
	l.report(RuleAddConstraintWithoutNotValid,
		"ADD CONSTRAINT "+name+" "+kind+" checks every existing row of "+quote(table)+" while holding a lock that blocks its writes",
		"ADD CONSTRAINT "+name+" "+kind+" … NOT VALID, then ALTER TABLE "+quote(table)+" VALIDATE CONSTRAINT "+name+" in a later migration file (validation lets writes through)")
}

func (l *linter) reportUnique(table string, c *pg_query.Constraint) {
	kind := "UNIQUE"
	if c.GetContype() == pg_query.ConstrType_CONSTR_PRIMARY {
		kind = "PRIMARY KEY"
	}
	index := c.GetConname()
	if index == "" {
		index = table + "_key"
	}
	l.report(RuleAddUniqueOrPrimaryKey,
		"ADD CONSTRAINT "+constraintName(c)+" "+kind+" builds a unique index on "+quote(table)+" under an ACCESS EXCLUSIVE lock, blocking reads and writes for the whole build",
		"CREATE UNIQUE INDEX CONCURRENTLY "+index+" ON "+table+" (…) in a NO TRANSACTION file, then ALTER TABLE "+table+" ADD CONSTRAINT "+index+" "+kind+" USING INDEX "+index)
}

// checkValidate handles VALIDATE CONSTRAINT: in the transaction that added
// the constraint NOT VALID it still runs under the ADD's lock, and once done
// a CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan.
func (l *linter) checkValidate(table, name string) {
	key := table + "." + name
	if l.seen.notValid[key] == l.file.Path && !l.file.NoTransaction {
		l.report(RuleAddConstraintWithoutNotValid,
			"VALIDATE CONSTRAINT "+quote(name)+" runs in the transaction that added it NOT VALID, so it checks every row of "+quote(table)+" while still holding the lock that blocks its writes",
			"move ALTER TABLE "+quote(table)+" VALIDATE CONSTRAINT "+quote(name)+" to a later migration file")
	}
	if col := l.seen.notNullChecks[key]; col != "" {
		l.seen.provenNotNull[table+"."+col] = true
	}
}

// notNullColumn returns the column of a CHECK (col IS NOT NULL) constraint,
// or "".
func notNullColumn(c *pg_query.Constraint) string {
	nt := c.GetRawExpr().GetNullTest()
	if c.GetContype() != pg_query.ConstrType_CONSTR_CHECK || nt.GetNulltesttype() != pg_query.NullTestType_IS_NOT_NULL {
		return ""
	}
	fields := nt.GetArg().GetColumnRef().GetFields()
	if len(fields) != 1 {
		return ""
	}
	return fields[0].GetString_().GetSval()
}

func constraintName(c *pg_query.Constraint) string {
	if c.GetConname() == "" {
		return "…"
	}
	return quote(c.GetConname())
}

// violation names, per kind of constraint, the error the live release's
// writes get when they break it.
var violation = map[pg_query.ConstrType]string{
	pg_query.ConstrType_CONSTR_CHECK:     "check_violation, 23514",
	pg_query.ConstrType_CONSTR_FOREIGN:   "foreign_key_violation, 23503",
	pg_query.ConstrType_CONSTR_UNIQUE:    "unique_violation, 23505",
	pg_query.ConstrType_CONSTR_PRIMARY:   "unique_violation or not_null_violation",
	pg_query.ConstrType_CONSTR_EXCLUSION: "exclusion_violation, 23P01",
}

// checkNarrows warns about a new constraint on columns that the live
// release already writes: it narrows what that release may write, NOT
// VALID or not (NOT VALID skips the existing rows only; every write from
// now on is checked), and no lint can know whether its writes comply. A
// UNIQUE or PRIMARY KEY USING INDEX adds nothing the index did not already
// enforce.
func (l *linter) checkNarrows(table string, c *pg_query.Constraint) {
	code, ok := violation[c.GetContype()]
	if !ok || c.GetIndexname() != "" {
		return
	}
	cols := constraintColumns(c)
	existing := l.existingColumns(table, cols)
	if len(cols) > 0 && len(existing) == 0 && nullPasses(c) {
		return // only columns this release adds: the live release leaves them NULL, which passes
	}
	on := "on " + quote(table)
	switch {
	case len(existing) > 0:
		on = "on " + columnList(table, existing)
	case len(cols) > 0:
		on = "on " + columnList(table, cols) + " (this release adds it; the live release leaves it NULL, and the check refuses NULL)"
	}
	l.reportNarrows("ADD CONSTRAINT "+constraintName(c)+" "+constraintKind(c)+" "+on, code)
}

// checkUniqueIndex warns about a new unique index on existing columns of an
// existing table: as a UNIQUE constraint does, it refuses writes.
func (l *linter) checkUniqueIndex(table string, s *pg_query.IndexStmt) {
	if !s.GetUnique() || l.seen.tables[table] {
		return
	}
	var cols []string
	for _, p := range s.GetIndexParams() {
		if name := p.GetIndexElem().GetName(); name != "" {
			cols = append(cols, name)
		}
	}
	existing := l.existingColumns(table, cols)
	if len(cols) > 0 && len(existing) == 0 {
		return
	}
	l.reportNarrows("CREATE UNIQUE INDEX on "+columnList(table, existing), violation[pg_query.ConstrType_CONSTR_UNIQUE])
}

func (l *linter) reportNarrows(what, code string) {
	l.report(RuleConstraintNarrowsWrites,
		what+" narrows what the live release may write: whatever becomes of the existing rows (NOT VALID spares them), "+
			"from now on every insert and update of the live release (or of a rollback target) that breaks it fails ("+code+")",
		"add it in a later release, once no release that may break it can come back (after this one is finalized); "+
			"or make sure the live release never writes what it refuses: migrate.compat_command runs the live release's own checks against the new schema")
}

// existingColumns returns the columns of cols that this phase did not add
// to table.
func (l *linter) existingColumns(table string, cols []string) []string {
	var out []string
	for _, c := range cols {
		if !l.seen.columns[table+"."+c] {
			out = append(out, c)
		}
	}
	return out
}

// nullPasses reports whether rows whose constraint columns are all NULL
// pass c: a foreign key or unique constraint lets NULLs through (unless
// NULLS NOT DISTINCT), and so does a CHECK whose expression is NULL when
// its columns are, that is one without IS [NOT] NULL, IS [NOT] TRUE,
// COALESCE, CASE or a function call, which can turn NULL into false.
func nullPasses(c *pg_query.Constraint) bool {
	if c.GetContype() != pg_query.ConstrType_CONSTR_CHECK {
		return !c.GetNullsNotDistinct()
	}
	passes := true
	walk(c.GetRawExpr(), func(m protoreflect.ProtoMessage) {
		switch m.(type) {
		case *pg_query.NullTest, *pg_query.BooleanTest, *pg_query.CoalesceExpr, *pg_query.CaseExpr, *pg_query.FuncCall:
			passes = false
		}
	})
	return passes
}

// constraintColumns returns the columns a constraint covers: its key, or
// the columns its CHECK expression reads.
func constraintColumns(c *pg_query.Constraint) []string {
	var cols []string
	for _, n := range append(c.GetKeys(), c.GetFkAttrs()...) {
		cols = append(cols, n.GetString_().GetSval())
	}
	for _, n := range c.GetExclusions() {
		if elem := n.GetList().GetItems(); len(elem) > 0 {
			cols = append(cols, elem[0].GetIndexElem().GetName())
		}
	}
	walk(c.GetRawExpr(), func(m protoreflect.ProtoMessage) {
		if ref, ok := m.(*pg_query.ColumnRef); ok {
			if f := ref.GetFields(); len(f) > 0 {
				if name := f[len(f)-1].GetString_().GetSval(); name != "" && !slices.Contains(cols, name) {
					cols = append(cols, name)
				}
			}
		}
	})
	return cols
}

func constraintKind(c *pg_query.Constraint) string {
	switch c.GetContype() {
	case pg_query.ConstrType_CONSTR_FOREIGN:
		return "FOREIGN KEY"
	case pg_query.ConstrType_CONSTR_UNIQUE:
		return "UNIQUE"
	case pg_query.ConstrType_CONSTR_PRIMARY:
		return "PRIMARY KEY"
	case pg_query.ConstrType_CONSTR_EXCLUSION:
		return "EXCLUDE"
	}
	return "CHECK"
}

// columnList renders "t"."a", "t"."b".
func columnList(table string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = column(table, c)
	}
	return strings.Join(out, ", ")
}
