package migrate

import pg_query "github.com/pganalyze/pg_query_go/v6"

// Rules about ALTER TABLE … ADD CONSTRAINT on existing tables: checking or
// indexing every existing row while holding a lock that stops writes.

func (l *linter) checkAddConstraint(table string, c *pg_query.Constraint) {
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
