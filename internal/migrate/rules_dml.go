package migrate

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rules about statements that hold row or table locks for the rest of the
// file's transaction: an UPDATE of a whole table, an explicit LOCK TABLE.

// checkUpdate warns about an UPDATE of an existing table with no sign of
// batching: it locks every row it changes until the file's transaction
// commits, so the live release's writes to them wait, and it writes a new
// version of each row (WAL, bloat, replica lag) in one go.
func (l *linter) checkUpdate(s *pg_query.UpdateStmt) {
	table := relKey(s.GetRelation())
	if l.seen.tables[table] || bounded(s.GetWhereClause()) {
		return
	}
	what := "UPDATE " + quote(table) + " without a WHERE clause"
	if s.GetWhereClause() != nil {
		what = "UPDATE " + quote(table) + " with a WHERE clause that bounds neither a key range nor a batch size"
	}
	l.report(RuleUnbatchedUpdate,
		what+" may change every row in one transaction: each row it changes stays locked against the live release's writes until the file commits, "+
			"and the whole table is written again at once (WAL, bloat, replica lag)",
		"backfill in batches, each in its own transaction: UPDATE … WHERE id IN (SELECT id FROM "+table+" WHERE … LIMIT 1000), "+
			"or WHERE id BETWEEN x AND y, from a job or a NO TRANSACTION file; or allow it for a small table: -- bascule:allow "+RuleUnbatchedUpdate+" <reason>")
}

// bounded reports whether a WHERE clause shows a batching pattern: a
// subquery with LIMIT, a range on a column (BETWEEN, <, <=, >, >=), an IN
// list of constants, or a column equal to a constant (a targeted update).
func bounded(where *pg_query.Node) bool {
	if where == nil {
		return false
	}
	found := false
	walk(where, func(m protoreflect.ProtoMessage) {
		switch n := m.(type) {
		case *pg_query.SelectStmt:
			found = found || n.GetLimitCount() != nil
		case *pg_query.A_Expr:
			found = found || boundingExpr(n)
		}
	})
	return found
}

func boundingExpr(e *pg_query.A_Expr) bool {
	switch e.GetKind() {
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM:
		return true
	case pg_query.A_Expr_Kind_AEXPR_IN:
		return e.GetRexpr().GetList() != nil && isConstList(e.GetRexpr().GetList().GetItems())
	case pg_query.A_Expr_Kind_AEXPR_OP:
		op := ""
		if names := e.GetName(); len(names) > 0 {
			op = names[len(names)-1].GetString_().GetSval()
		}
		column := e.GetLexpr().GetColumnRef() != nil
		switch op {
		case "<", "<=", ">", ">=":
			return column
		case "=":
			return column && isConst(e.GetRexpr())
		}
	}
	return false
}

func isConst(n *pg_query.Node) bool {
	return n.GetAConst() != nil || n.GetParamRef() != nil || (n.GetTypeCast() != nil && isConst(n.GetTypeCast().GetArg()))
}

func isConstList(items []*pg_query.Node) bool {
	for _, n := range items {
		if !isConst(n) {
			return false
		}
	}
	return len(items) > 0
}

// lockModes names LOCK TABLE's modes that stop writes (SHARE and up), by
// their number in the parse tree.
var lockModes = map[int32]string{5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE"}

// checkLock refuses LOCK TABLE in a mode that stops the live release's
// writes (ACCESS EXCLUSIVE, the default, stops its reads too) for the rest
// of the file's transaction.
func (l *linter) checkLock(s *pg_query.LockStmt) {
	mode, ok := lockModes[s.GetMode()]
	if !ok {
		return
	}
	var tables []string
	for _, n := range s.GetRelations() {
		if t := relKey(n.GetRangeVar()); !l.seen.tables[t] {
			tables = append(tables, quote(t))
		}
	}
	if len(tables) == 0 {
		return
	}
	stops := "writes"
	if mode == "ACCESS EXCLUSIVE" {
		stops = "reads and writes"
	}
	l.report(RuleLockTable,
		"LOCK TABLE "+strings.Join(tables, ", ")+" IN "+mode+" MODE stops the live release's "+stops+" on it until the file's transaction ends, "+
			"however long its other statements take",
		"let each statement take the lock it needs, for as short as it needs it; if the file is a single quick ALTER that takes this lock anyway, "+
			"accept it: -- bascule:allow "+RuleLockTable+" <reason>")
}
