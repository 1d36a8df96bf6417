package migrate

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Rules about whole tables: dropping, renaming, truncating. They break the
// live release, which keeps using the table until the switch and again after
// a rollback.

func (l *linter) checkDrop(s *pg_query.DropStmt) {
	switch s.GetRemoveType() {
	case pg_query.ObjectType_OBJECT_TABLE:
		for _, obj := range s.GetObjects() {
			if t := nameKey(obj); !l.seen.tables[t] {
				l.report(RuleDropTable,
					"DROP TABLE "+quote(t)+" breaks the live release, which still reads and writes it (and a rollback would need it back)",
					"stop using the table in this release, then drop it in a contract migration (contract/NNN_drop_"+t+".sql), which runs at finalize")
			}
		}
	case pg_query.ObjectType_OBJECT_INDEX:
		l.checkDropIndex(s)
	case pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW:
		l.checkDropView(s)
	}
}

// checkDropView refuses dropping a view: the live release may read it,
// and a rollback target would need it back.
func (l *linter) checkDropView(s *pg_query.DropStmt) {
	kind := "VIEW"
	if s.GetRemoveType() == pg_query.ObjectType_OBJECT_MATVIEW {
		kind = "MATERIALIZED VIEW"
	}
	for _, obj := range s.GetObjects() {
		v := nameKey(obj)
		if l.seen.tables[v] || !l.viewInUse(v) {
			continue
		}
		l.report(RuleDropView,
			"DROP "+kind+" "+quote(v)+" breaks the live release if it reads it (and a rollback would need it back)",
			"stop reading the view in this release, then drop it in a contract migration; to change a view's columns, create the new view beside it")
	}
}

func (l *linter) checkRename(s *pg_query.RenameStmt) {
	table := relKey(s.GetRelation())
	if l.seen.tables[table] {
		if s.GetRenameType() == pg_query.ObjectType_OBJECT_TABLE {
			renamed := &pg_query.RangeVar{Schemaname: s.GetRelation().GetSchemaname(), Relname: s.GetNewname()}
			l.seen.tables[relKey(renamed)] = true
		}
		return
	}
	switch {
	case s.GetRenameType() == pg_query.ObjectType_OBJECT_TABLE:
		l.report(RuleRenameTable,
			"renaming "+quote(table)+" to "+quote(s.GetNewname())+" breaks the live release, which still queries the old name",
			"create "+quote(s.GetNewname())+" beside the old table, write to both from this release and backfill; drop "+quote(table)+" in a contract migration once no release uses it")
	case s.GetRenameType() == pg_query.ObjectType_OBJECT_COLUMN && s.GetRelationType() == pg_query.ObjectType_OBJECT_TABLE:
		l.report(RuleRenameColumn,
			"renaming "+column(table, s.GetSubname())+" to "+quote(s.GetNewname())+" breaks the live release, which still reads and writes the old name",
			"add column "+quote(s.GetNewname())+", write both columns from this release and backfill; drop "+quote(s.GetSubname())+" in a contract migration once no release uses it")
	}
}

// checkAlterEnum refuses renaming an enum's label: the live release writes
// and compares the old one.
func (l *linter) checkAlterEnum(s *pg_query.AlterEnumStmt) {
	if s.GetOldVal() == "" {
		return // ADD VALUE: the live release never writes the new label
	}
	var names []string
	for _, n := range s.GetTypeName() {
		names = append(names, n.GetString_().GetSval())
	}
	typ := strings.Join(names, ".")
	l.report(RuleRenameEnumValue,
		"renaming the label "+quote(s.GetOldVal())+" of enum "+quote(typ)+" to "+quote(s.GetNewVal())+" breaks the live release: its writes of "+
			quote(s.GetOldVal())+" fail (invalid input value for enum) and its queries comparing with it find nothing",
		"ADD VALUE "+quote(s.GetNewVal())+" in this release and write it alongside the old label; move the rows in batches; "+
			"stop using the old label in a later release (an enum label cannot be dropped: a contract step can move the column to a new type)")
}

// checkDelete handles DELETE without a WHERE clause: TRUNCATE by another
// name, row by row.
func (l *linter) checkDelete(s *pg_query.DeleteStmt) {
	table := relKey(s.GetRelation())
	if s.GetWhereClause() != nil || l.seen.tables[table] {
		return
	}
	l.report(RuleTruncate,
		"DELETE FROM "+quote(table)+" without a WHERE clause deletes every row the live release still serves, and a rollback cannot bring them back",
		"delete the data in a contract migration once no release needs it, or in small batches (DELETE … WHERE id IN (SELECT … LIMIT 1000)) from a job")
}

func (l *linter) checkTruncate(s *pg_query.TruncateStmt) {
	var tables []string
	for _, n := range s.GetRelations() {
		if t := relKey(n.GetRangeVar()); !l.seen.tables[t] {
			tables = append(tables, quote(t))
		}
	}
	if len(tables) == 0 {
		return
	}
	l.report(RuleTruncate,
		"TRUNCATE "+strings.Join(tables, ", ")+" deletes every row the live release still serves, under an ACCESS EXCLUSIVE lock, and a rollback cannot bring them back",
		"delete the data in a contract migration once no release needs it, or in small batches (DELETE … WHERE id IN (SELECT … LIMIT 1000)) from a job")
}

// viewInUse reports whether the view v may be read by the live release:
// it exists in the live schema, or that schema is unknown.
func (l *linter) viewInUse(v string) bool {
	return l.schema == nil || l.schema.Table(v) != nil
}
