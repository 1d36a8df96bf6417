package migrate

import (
	"slices"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Rules about index builds and drops: without CONCURRENTLY they hold locks
// that stop production writes (or reads) for as long as they run, and with
// CONCURRENTLY they cannot run inside a transaction.

const noTransactionFix = "add -- +goose NO TRANSACTION to the file (its statements then run one by one, each on its own) or move the statement to a file of its own that has it"

func (l *linter) checkCreateIndex(s *pg_query.IndexStmt) {
	table := relKey(s.GetRelation())
	l.checkUniqueIndex(table, s)
	if s.GetConcurrent() {
		l.checkConcurrently("CREATE INDEX CONCURRENTLY")
		return
	}
	if l.seen.tables[table] {
		if s.GetIdxname() != "" {
			l.seen.indexes[indexKey(s.GetRelation().GetSchemaname(), s.GetIdxname())] = true
		}
		return
	}
	verb := "CREATE INDEX"
	if s.GetUnique() {
		verb = "CREATE UNIQUE INDEX"
	}
	l.report(RuleCreateIndexNonConcurrently,
		verb+" locks writes to "+quote(table)+" for the whole build",
		verb+" CONCURRENTLY … in a file marked -- +goose NO TRANSACTION")
}

func (l *linter) checkDropIndex(s *pg_query.DropStmt) {
	if s.GetConcurrent() {
		l.checkConcurrently("DROP INDEX CONCURRENTLY")
		return
	}
	for _, obj := range s.GetObjects() {
		idx := nameKey(obj)
		if l.seen.indexes[idx] {
			continue
		}
		l.report(RuleDropIndexNonConcurrently,
			"DROP INDEX "+quote(idx)+" takes an ACCESS EXCLUSIVE lock on its table: reads and writes wait behind it and behind every query it waits for",
			"DROP INDEX CONCURRENTLY … in a file marked -- +goose NO TRANSACTION")
	}
}

func (l *linter) checkReindex(s *pg_query.ReindexStmt) {
	concurrent := slices.ContainsFunc(s.GetParams(), func(n *pg_query.Node) bool {
		return n.GetDefElem().GetDefname() == "concurrently"
	})
	if concurrent {
		l.checkConcurrently("REINDEX CONCURRENTLY")
		return
	}
	target := s.GetName()
	if rv := s.GetRelation(); rv != nil {
		target = relKey(rv)
		if l.seen.tables[target] || l.seen.indexes[target] {
			return
		}
	}
	l.report(RuleReindexNonConcurrently,
		"REINDEX "+quote(target)+" blocks writes to the table, and reads that use the index, for the whole rebuild",
		"REINDEX … CONCURRENTLY (PostgreSQL 12+) in a file marked -- +goose NO TRANSACTION")
}

// checkConcurrently reports a CONCURRENTLY operation in a file that runs in
// a transaction, where PostgreSQL refuses it.
func (l *linter) checkConcurrently(what string) {
	if l.file.NoTransaction {
		return
	}
	l.report(RuleConcurrentlyInTransaction,
		what+" cannot run inside a transaction block, and this file runs in one, so the deployment would fail here",
		noTransactionFix)
}

// indexKey names an index as DROP INDEX's name list does; an index lives in
// its table's schema.
func indexKey(schema, name string) string {
	if schema != "" && schema != "public" {
		return schema + "." + name
	}
	return name
}
