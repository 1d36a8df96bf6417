package migrate

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rules about ALTER TABLE on existing tables: column changes that the live
// release cannot survive, and changes that lock or rewrite the table.

func (l *linter) checkAlterTable(s *pg_query.AlterTableStmt) {
	if s.GetObjtype() != pg_query.ObjectType_OBJECT_TABLE {
		return
	}
	table := relKey(s.GetRelation())
	for _, n := range s.GetCmds() {
		cmd := n.GetAlterTableCmd()
		if cmd.GetSubtype() == pg_query.AlterTableType_AT_DetachPartition {
			l.checkDetach(table, cmd.GetDef().GetPartitionCmd())
			continue
		}
		if !l.seen.tables[table] {
			l.checkAlterCmd(table, cmd)
		}
	}
}

func (l *linter) checkAlterCmd(table string, cmd *pg_query.AlterTableCmd) {
	col := cmd.GetName()
	switch cmd.GetSubtype() {
	case pg_query.AlterTableType_AT_DropColumn:
		l.report(RuleDropColumn,
			"DROP COLUMN "+column(table, col)+" breaks the live release, which still selects or inserts it (and a rollback would need it back)",
			"ship a release that no longer reads or writes the column, then drop it in a contract migration, which runs at finalize")
	case pg_query.AlterTableType_AT_AlterColumnType:
		if l.widens(table, col, cmd.GetDef().GetColumnDef()) {
			return
		}
		l.report(RuleChangeColumnType,
			"changing the type of "+column(table, col)+" rewrites "+quote(table)+" under an ACCESS EXCLUSIVE lock, and the live release may not read or write the new type",
			"add a new column of the new type, write both from this release, backfill in batches, switch reads, then drop the old column in a contract migration "+
				"(widening a varchar, or a varchar to text, rewrites nothing: the gates, which see the column's current type, accept it)")
	case pg_query.AlterTableType_AT_SetNotNull:
		if l.seen.provenNotNull[table+"."+col] {
			return
		}
		msg := "SET NOT NULL on " + column(table, col) + " scans all of " + quote(table) + " under an ACCESS EXCLUSIVE lock, blocking reads and writes"
		if l.file.Phase == Expand {
			msg += ", and inserts of the live release that leave it NULL start failing"
		}
		l.report(RuleSetNotNull, msg,
			"once no release that leaves it NULL can come back: ADD CONSTRAINT … CHECK ("+col+" IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT in a later migration file; then SET NOT NULL (PostgreSQL 12+ uses the valid check and skips the scan) and drop the check")
	case pg_query.AlterTableType_AT_DropNotNull:
		l.report(RuleDropNotNull,
			"DROP NOT NULL on "+column(table, col)+" lets this release write NULLs that the live release may not expect when it reads the row",
			"make sure the live release reads the column as nullable, or drop NOT NULL in a contract migration")
	case pg_query.AlterTableType_AT_AddColumn:
		l.seen.columns[table+"."+cmd.GetDef().GetColumnDef().GetColname()] = true
		l.checkAddColumn(table, cmd.GetDef().GetColumnDef())
	case pg_query.AlterTableType_AT_AddConstraint:
		l.checkAddConstraint(table, cmd.GetDef().GetConstraint())
	case pg_query.AlterTableType_AT_ValidateConstraint:
		l.checkValidate(table, col)
	case pg_query.AlterTableType_AT_SetLogged, pg_query.AlterTableType_AT_SetUnLogged:
		l.checkSetLogged(table, cmd.GetSubtype() == pg_query.AlterTableType_AT_SetLogged)
	}
}

// columnFacts is what ADD COLUMN's definition says about the new column.
type columnFacts struct {
	notNull, hasDefault bool
	// rewrite says why filling the column rewrites the table, or is empty.
	rewrite             string
	uniqueOrPrimary     string
	validatedConstraint string
}

func (l *linter) checkAddColumn(table string, def *pg_query.ColumnDef) {
	c := describeColumn(def)
	name := column(table, def.GetColname())
	if c.rewrite != "" {
		l.report(RuleAddColumnVolatileDefault,
			"ADD COLUMN "+name+" "+c.rewrite+": PostgreSQL computes it for every existing row, rewriting "+quote(table)+" under an ACCESS EXCLUSIVE lock",
			"add the column without a default (or with a constant one), set the default in a later statement (ALTER COLUMN … SET DEFAULT), then backfill existing rows in batches")
	}
	if c.notNull && !c.hasDefault {
		l.report(RuleAddColumnNotNullWithoutDefault,
			"ADD COLUMN "+name+" NOT NULL without a default fails on a non-empty table and breaks the live release's inserts, which do not set it",
			"add the column nullable or NOT NULL DEFAULT <constant>, backfill in batches, then, in a later release (the live one does not write it), enforce it with CHECK ("+def.GetColname()+" IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT")
	}
	if c.uniqueOrPrimary != "" {
		l.report(RuleAddUniqueOrPrimaryKey,
			"ADD COLUMN "+name+" "+c.uniqueOrPrimary+" builds a unique index on "+quote(table)+" while blocking writes",
			"add the column plain, CREATE UNIQUE INDEX CONCURRENTLY in a NO TRANSACTION file, then ADD CONSTRAINT … "+c.uniqueOrPrimary+" USING INDEX")
	}
	if c.validatedConstraint != "" {
		l.report(RuleAddConstraintWithoutNotValid,
			"ADD COLUMN "+name+" with a "+c.validatedConstraint+" constraint checks every row of "+quote(table)+" under an ACCESS EXCLUSIVE lock",
			"add the column plain, then ADD CONSTRAINT … "+c.validatedConstraint+" … NOT VALID and VALIDATE CONSTRAINT in a later migration file")
	}
}

func describeColumn(def *pg_query.ColumnDef) columnFacts {
	var c columnFacts
	if isSerial(typeName(def.GetTypeName())) {
		c.hasDefault, c.rewrite = true, "of type "+typeName(def.GetTypeName())+" fills every row from a sequence"
	}
	if def.GetIdentity() != "" {
		c.hasDefault, c.rewrite = true, "GENERATED AS IDENTITY fills every row from a sequence"
	}
	if def.GetRawDefault() != nil {
		c.hasDefault = true
		c.rewrite = volatileDefault(def.GetRawDefault(), c.rewrite)
	}
	for _, n := range def.GetConstraints() {
		con := n.GetConstraint()
		switch con.GetContype() {
		case pg_query.ConstrType_CONSTR_NOTNULL:
			c.notNull = true
		case pg_query.ConstrType_CONSTR_DEFAULT:
			c.hasDefault = true
			c.rewrite = volatileDefault(con.GetRawExpr(), c.rewrite)
		case pg_query.ConstrType_CONSTR_IDENTITY:
			c.hasDefault, c.rewrite = true, "GENERATED AS IDENTITY fills every row from a sequence"
		case pg_query.ConstrType_CONSTR_GENERATED:
			c.hasDefault, c.rewrite = true, "GENERATED ALWAYS AS (…) STORED computes a value for every row"
		case pg_query.ConstrType_CONSTR_PRIMARY:
			c.notNull, c.uniqueOrPrimary = true, "PRIMARY KEY"
		case pg_query.ConstrType_CONSTR_UNIQUE:
			c.uniqueOrPrimary = "UNIQUE"
		case pg_query.ConstrType_CONSTR_CHECK:
			c.validatedConstraint = "CHECK"
		case pg_query.ConstrType_CONSTR_FOREIGN:
			c.validatedConstraint = "FOREIGN KEY"
		}
	}
	return c
}

// volatileDefault returns why the default expression is computed per row,
// or current when it is a constant or a stable function such as now().
func volatileDefault(expr *pg_query.Node, current string) string {
	walk(expr, func(m protoreflect.ProtoMessage) {
		if fc, ok := m.(*pg_query.FuncCall); ok && isVolatile(funcName(fc)) {
			current = "DEFAULT " + funcName(fc) + "() is volatile"
		}
	})
	return current
}

// isVolatile lists the volatile built-in functions commonly used as column
// defaults; a stable one like now() is evaluated once for the whole ALTER.
func isVolatile(fn string) bool {
	switch fn {
	case "random", "random_normal", "gen_random_uuid", "uuidv4", "uuidv7",
		"uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
		"clock_timestamp", "timeofday", "nextval":
		return true
	}
	return false
}

func isSerial(typ string) bool {
	switch typ {
	case "serial", "serial4", "bigserial", "serial8", "smallserial", "serial2":
		return true
	}
	return false
}

// checkDetach handles DETACH PARTITION: in expand, the partition's rows
// vanish from every query of the live release; without CONCURRENTLY, it
// takes ACCESS EXCLUSIVE on the parent, in either phase.
func (l *linter) checkDetach(table string, pc *pg_query.PartitionCmd) {
	part := relKey(pc.GetName())
	if pc.GetConcurrent() {
		l.checkConcurrently("DETACH PARTITION CONCURRENTLY")
	}
	if l.seen.tables[table] || l.seen.tables[part] {
		return
	}
	fix := "detach in a contract migration, once no release reads those rows through " + quote(table) +
		", with DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+) in a file marked -- +goose NO TRANSACTION"
	switch {
	case l.file.Phase == Expand:
		l.report(RuleDetachPartition, "DETACH PARTITION "+quote(part)+" removes its rows from every query of the live release on "+quote(table), fix)
	case !pc.GetConcurrent():
		l.report(RuleDetachPartition, "DETACH PARTITION "+quote(part)+" without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on "+quote(table)+
			": every read and write of it waits, and waits behind every query it waits for", fix)
	}
}
