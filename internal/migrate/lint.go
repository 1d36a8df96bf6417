package migrate

import (
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// Lint checks the Up statements of every file of set with PostgreSQL's own
// parser, offline, with the default limits; see LintWith.
func Lint(set *Set) Report { return LintWith(set, LintOptions{}) }

// LintOptions say what the lint knows beyond the files. The zero value is
// the offline lint with the runner's default limits.
type LintOptions struct {
	// Limits are the runner's lock and statement timeouts; a file that
	// lifts them is refused. Zero fields: the defaults.
	Limits Limits
	// PerFile lints each file as if the files before it were applied
	// already: a table an earlier file created is an existing table, with
	// live rows, for the later ones. Without it, every file of the set is
	// new in this release, and the tables one creates are new and empty
	// for the others. Use it when what is applied is unknown (a folder
	// that carries the history of every release, linted offline).
	PerFile bool
	// Schema is the live schema, when known (the gates inspect it): type
	// changes are judged against the columns' current types (widening a
	// varchar rewrites nothing), and DROP VIEW only for views that exist.
	// Nil: offline, every type change and view drop is refused.
	Schema *Schema
}

// limits returns o.Limits with the runner's defaults filled in.
func (o LintOptions) limits() Limits {
	return (&Runner{LockTimeout: o.Limits.LockTimeout, StatementTimeout: o.Limits.StatementTimeout}).limits()
}

// LintWith checks the Up statements of every file of set with PostgreSQL's
// own parser. Expand files get every rule: they run while the live release
// keeps serving, so they must neither break it nor lock its tables. Contract
// files get only the locking rules. Tables created earlier in the same phase
// are new and empty, so rules about existing tables do not fire on them
// (unless o.PerFile). set must hold the files new in this release: the
// gates lint the files not applied yet; offline, see Since.
func LintWith(set *Set, o LintOptions) Report {
	var rep Report
	if set == nil {
		return rep
	}
	seen := &seen{notNullChecks: map[string]string{}, notValid: map[string]string{}, provenNotNull: map[string]bool{}}
	limits := o.limits()
	for _, files := range [][]*File{set.Expand, set.Contract} {
		// Contract runs long after expand, when tables that expand created
		// hold live data: each phase starts with nothing new.
		seen.tables, seen.indexes, seen.columns = map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, f := range files {
			if o.PerFile {
				seen.tables, seen.indexes, seen.columns = map[string]bool{}, map[string]bool{}, map[string]bool{}
			}
			rep.Files++
			for i := range f.Statements {
				l := &linter{file: f, stmt: &f.Statements[i], seen: seen, limits: limits, schema: o.Schema}
				rep.Findings = append(rep.Findings, l.lint()...)
			}
		}
	}
	return rep
}

// seen is what the statements before the current one did to the schema.
type seen struct {
	// tables and indexes created earlier in the phase, keyed by relKey.
	tables, indexes map[string]bool
	// columns added to existing tables earlier in the phase, keyed
	// "table.column": no release before this one writes them.
	columns map[string]bool
	// notNullChecks maps "table.constraint" to the column a CHECK (col IS
	// NOT NULL) constraint covers.
	notNullChecks map[string]string
	// notValid maps "table.constraint" to the file that added it NOT VALID.
	notValid map[string]string
	// provenNotNull holds "table.column" once a valid check proves it, so
	// SET NOT NULL no longer scans the table.
	provenNotNull map[string]bool
}

// linter checks one statement of a file.
type linter struct {
	file   *File
	stmt   *Statement
	seen   *seen
	limits Limits
	schema *Schema // nil: unknown
	// line is the line of the parse tree statement being checked; a
	// StatementBegin block can hold several.
	line     int
	findings []Finding
}

func (l *linter) lint() []Finding {
	l.line = l.stmt.Line
	l.checkAllows()
	tree, err := pg_query.Parse(l.stmt.SQL)
	if err != nil {
		l.parseError(err)
		return l.findings
	}
	for _, raw := range tree.GetStmts() {
		l.line = l.stmt.Line + strings.Count(l.stmt.SQL[:l.tokenStart(int(raw.GetStmtLocation()))], "\n")
		l.check(raw.GetStmt())
	}
	l.applyAllows()
	// An allow comment's finding sits on the comment's line, before the
	// statement's; keep the report in file order.
	slices.SortStableFunc(l.findings, func(a, b Finding) int { return a.Line - b.Line })
	return l.findings
}

// tokenStart returns the offset of the first token at or after loc: the
// parser places a statement right after the previous semicolon.
func (l *linter) tokenStart(loc int) int {
	sql := l.stmt.SQL
	loc = min(max(loc, 0), len(sql))
	for loc < len(sql) {
		switch {
		case isSpace(sql[loc]):
			loc++
		case strings.HasPrefix(sql[loc:], "--"):
			loc = lineEnd(sql, loc, len(sql))
		case strings.HasPrefix(sql[loc:], "/*"):
			loc = skipBlockComment(sql, loc, len(sql))
		default:
			return loc
		}
	}
	return loc
}

// check dispatches one parsed statement to the rules about its kind.
func (l *linter) check(n *pg_query.Node) {
	switch {
	case n.GetCreateStmt() != nil:
		l.seen.tables[relKey(n.GetCreateStmt().GetRelation())] = true
	case n.GetCreateTableAsStmt() != nil:
		l.seen.tables[relKey(n.GetCreateTableAsStmt().GetInto().GetRel())] = true
	case n.GetAlterTableStmt() != nil:
		l.checkAlterTable(n.GetAlterTableStmt())
	case n.GetRenameStmt() != nil:
		l.checkRename(n.GetRenameStmt())
	case n.GetAlterEnumStmt() != nil:
		l.checkAlterEnum(n.GetAlterEnumStmt())
	case n.GetDropStmt() != nil:
		l.checkDrop(n.GetDropStmt())
	case n.GetTruncateStmt() != nil:
		l.checkTruncate(n.GetTruncateStmt())
	case n.GetIndexStmt() != nil:
		l.checkCreateIndex(n.GetIndexStmt())
	case n.GetReindexStmt() != nil:
		l.checkReindex(n.GetReindexStmt())
	case n.GetViewStmt() != nil:
		l.seen.tables[relKey(n.GetViewStmt().GetView())] = true
	case n.GetUpdateStmt() != nil:
		l.checkUpdate(n.GetUpdateStmt())
	case n.GetLockStmt() != nil:
		l.checkLock(n.GetLockStmt())
	case n.GetDeleteStmt() != nil:
		l.checkDelete(n.GetDeleteStmt())
	case n.GetClusterStmt() != nil:
		l.checkCluster(n.GetClusterStmt())
	case n.GetVacuumStmt() != nil:
		l.checkVacuum(n.GetVacuumStmt())
	case n.GetRefreshMatViewStmt() != nil:
		l.checkRefresh(n.GetRefreshMatViewStmt())
	case n.GetDoStmt() != nil:
		l.checkDo(n.GetDoStmt())
	case n.GetCreateFunctionStmt() != nil:
		l.checkFunction(n.GetCreateFunctionStmt())
	case n.GetVariableSetStmt() != nil:
		l.checkSet(n.GetVariableSetStmt())
	case n.GetSelectStmt() != nil:
		l.checkSetConfig(n)
	}
}

// report records a finding of rule at the current line, unless the rule
// does not apply to the file's phase.
func (l *linter) report(rule, message, fix string) {
	info, _ := lookupRule(rule)
	if !info.appliesTo(l.file.Phase) {
		return
	}
	l.add(l.line, rule, info.severity, message, fix)
}

func (l *linter) add(line int, rule string, sev Severity, message, fix string) {
	l.findings = append(l.findings, Finding{
		File: l.file.Path, Line: line, Rule: rule, Severity: sev, Message: message, Fix: fix,
	})
}

// parseError reports what PostgreSQL's parser refused, on the line of the
// error's cursor.
func (l *linter) parseError(err error) {
	line := l.stmt.Line
	var pe *pgparser.Error
	if errors.As(err, &pe) && pe.Cursorpos > 0 {
		// The cursor counts characters from 1, not bytes.
		off, chars := 0, 1
		for off < len(l.stmt.SQL) && chars < pe.Cursorpos {
			_, size := utf8.DecodeRuneInString(l.stmt.SQL[off:])
			off += size
			chars++
		}
		line += strings.Count(l.stmt.SQL[:off], "\n")
	}
	l.add(line, RuleParseError, SeverityError, err.Error(),
		"fix the statement: PostgreSQL would refuse it the same way")
}

// checkAllows refuses allow comments without a reason or with an unknown
// rule; such a comment allows nothing.
func (l *linter) checkAllows() {
	for _, a := range l.stmt.Allows {
		if _, ok := lookupRule(a.Rule); !ok {
			l.add(a.Line, RuleAllowUnknownRule, SeverityError,
				"bascule:allow names no known rule "+quote(a.Rule),
				"use one of: "+strings.Join(RuleNames(), ", "))
			continue
		}
		if a.Reason == "" {
			l.add(a.Line, RuleAllowWithoutReason, SeverityError,
				"bascule:allow "+a.Rule+" gives no reason, so it allows nothing; the deployment record keeps the reason",
				"say why the finding is safe here: -- bascule:allow "+a.Rule+" <reason>")
		}
	}
}

// applyAllows marks the findings that a valid allow comment accepts.
func (l *linter) applyAllows() {
	for i := range l.findings {
		f := &l.findings[i]
		for _, a := range l.stmt.Allows {
			if a.Rule == f.Rule && a.Reason != "" {
				f.Allowed, f.AllowReason = true, a.Reason
				break
			}
		}
	}
}
