package migrate

import (
	"encoding/json"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Rules about code the statement runs rather than states: a DO block or a
// function body. The lint cannot know whether (or on what) such code runs:
// its statements may sit behind an IF on the data, or be built as text and
// EXECUTEd. What a DO block states plainly is linted like a statement of the
// file; the rest only the shadow replay judges, by its effect on the
// schema (it caught a rename hidden in a DO block), and only on a shadow
// that holds no data.

// checkDo lints the statements a DO block states and warns that it runs
// DDL the lint may not see.
func (l *linter) checkDo(s *pg_query.DoStmt) {
	body, lang := "", "plpgsql"
	for _, n := range s.GetArgs() {
		switch d := n.GetDefElem(); d.GetDefname() {
		case "as":
			body = d.GetArg().GetString_().GetSval()
		case "language":
			lang = strings.ToLower(d.GetArg().GetString_().GetSval())
		}
	}
	if lang != "plpgsql" {
		l.reportBody("a DO block in "+lang, []string{"code the lint cannot read"})
		return
	}
	stmts, dynamic := plpgsqlStatements(body)
	var ddl []string
	base := l.line + strings.Count(l.stmt.SQL[:max(strings.Index(l.stmt.SQL, body), 0)], "\n")
	for _, st := range stmts {
		tree, err := pg_query.Parse(st.query)
		if err != nil {
			continue
		}
		for _, raw := range tree.GetStmts() {
			if !isDDL(raw.GetStmt()) {
				continue
			}
			ddl = append(ddl, summary(st.query))
			// Lint it as if it ran: it does, unless a condition the lint
			// cannot evaluate says otherwise.
			line, before := l.line, len(l.findings)
			l.line = base + st.line - 1
			l.check(raw.GetStmt())
			for i := before; i < len(l.findings); i++ {
				l.findings[i].Message = "in a DO block: " + l.findings[i].Message
			}
			l.line = line
		}
	}
	if dynamic {
		ddl = append(ddl, "dynamic SQL (EXECUTE)")
	}
	if len(ddl) > 0 {
		l.reportBody("a DO block", ddl)
	}
}

// checkFunction warns about a function or procedure whose body runs DDL:
// it runs whenever something calls it, and the lint cannot see when.
func (l *linter) checkFunction(s *pg_query.CreateFunctionStmt) {
	var ddl []string
	if body := s.GetSqlBody(); body != nil {
		ddl = append(ddl, ddlIn(body)...)
	}
	lang, body := "", ""
	for _, n := range s.GetOptions() {
		switch d := n.GetDefElem(); d.GetDefname() {
		case "as":
			if items := d.GetArg().GetList().GetItems(); len(items) > 0 {
				body = items[0].GetString_().GetSval()
			}
		case "language":
			lang = strings.ToLower(d.GetArg().GetString_().GetSval())
		}
	}
	switch lang {
	case "sql":
		if tree, err := pg_query.Parse(body); err == nil {
			for _, raw := range tree.GetStmts() {
				if isDDL(raw.GetStmt()) {
					ddl = append(ddl, "a "+nodeName(raw.GetStmt()))
				}
			}
		}
	case "plpgsql":
		stmts, dynamic := plpgsqlStatements(body)
		for _, st := range stmts {
			if tree, err := pg_query.Parse(st.query); err == nil && len(tree.GetStmts()) > 0 && isDDL(tree.GetStmts()[0].GetStmt()) {
				ddl = append(ddl, summary(st.query))
			}
		}
		if dynamic {
			ddl = append(ddl, "dynamic SQL (EXECUTE)")
		}
	}
	if len(ddl) > 0 {
		kind := "function"
		if s.GetIsProcedure() {
			kind = "procedure"
		}
		l.reportBody("the body of this "+kind+" (it runs whenever it is called, and the lint cannot see when)", ddl)
	}
}

func (l *linter) reportBody(where string, ddl []string) {
	l.report(RuleDDLInFunction,
		where+" runs "+strings.Join(ddl, "; ")+": the lint cannot tell whether or how it runs, so only the shadow replay judges its effect on the schema, on a copy that holds no data",
		"state schema changes as plain statements of the migration, where every rule checks them; keep DO blocks and functions for data")
}

// plStatement is a SQL statement of a PL/pgSQL body and its line in it.
type plStatement struct {
	query string
	line  int
}

// plpgsqlStatements returns the SQL statements a PL/pgSQL body runs, and
// whether it runs dynamic SQL too. The body is parsed as that of a
// function bascule writes around it: libpg_query's PL/pgSQL parser asserts
// (and aborts the process) on a CREATE FUNCTION without a body, so it is
// never handed the migration's own statement.
func plpgsqlStatements(body string) ([]plStatement, bool) {
	const quote = "$bascule_body$"
	if body == "" || strings.Contains(body, quote) {
		return nil, false
	}
	out, err := pg_query.ParsePlPgSqlToJSON("CREATE FUNCTION pg_temp.bascule_body() RETURNS void LANGUAGE plpgsql AS " + quote + body + quote)
	if err != nil {
		return nil, false
	}
	var tree any
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		return nil, false
	}
	var stmts []plStatement
	dynamic := false
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				switch k {
				case "PLpgSQL_stmt_execsql":
					m, _ := child.(map[string]any)
					q, _ := jsonPath(m, "sqlstmt", "PLpgSQL_expr", "query").(string)
					line, _ := m["lineno"].(float64)
					stmts = append(stmts, plStatement{q, int(line)})
				case "PLpgSQL_stmt_dynexecute":
					dynamic = true
				}
				visit(child)
			}
		case []any:
			for _, child := range x {
				visit(child)
			}
		}
	}
	visit(tree)
	return stmts, dynamic
}

func jsonPath(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// ddlIn lists the DDL statements under n.
func ddlIn(n *pg_query.Node) []string {
	var out []string
	for _, item := range n.GetList().GetItems() {
		if isDDL(item) {
			out = append(out, "a "+nodeName(item))
		}
		out = append(out, ddlIn(item)...)
	}
	return out
}

// isDDL reports whether n changes the schema (or locks a table), as
// opposed to reading or writing rows.
func isDDL(n *pg_query.Node) bool {
	switch n.GetNode().(type) {
	case *pg_query.Node_SelectStmt, *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt,
		*pg_query.Node_MergeStmt, *pg_query.Node_CallStmt, *pg_query.Node_NotifyStmt, *pg_query.Node_VariableSetStmt,
		*pg_query.Node_VariableShowStmt, *pg_query.Node_TransactionStmt, *pg_query.Node_List, nil:
		return false
	}
	return true
}

// nodeName names a statement's kind: "AlterTableStmt" for ALTER TABLE.
func nodeName(n *pg_query.Node) string {
	name := fmt.Sprintf("%T", n.GetNode())
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	return strings.TrimSuffix(name, "Stmt") + " statement"
}

// summary shortens a statement for a message.
func summary(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 60 {
		q = q[:57] + "…"
	}
	return q
}
