package migrate

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Rules about maintenance commands that rebuild a whole table or
// materialized view under ACCESS EXCLUSIVE: no read and no write of it gets
// through until they finish, which on a large relation is minutes.

func (l *linter) reportRebuild(what, table, fix string) {
	if l.seen.tables[table] {
		return
	}
	l.report(RuleExclusiveRebuild,
		what+" rebuilds "+quote(table)+" under an ACCESS EXCLUSIVE lock: every read and write of the live release waits until it is done",
		fix)
}

func (l *linter) checkCluster(s *pg_query.ClusterStmt) {
	if s.GetRelation() == nil {
		l.report(RuleExclusiveRebuild, "CLUSTER without a table rebuilds every clustered table under ACCESS EXCLUSIVE locks",
			"leave CLUSTER out of migrations; pg_repack reorders a table without the long lock")
		return
	}
	l.reportRebuild("CLUSTER", relKey(s.GetRelation()), "leave CLUSTER out of migrations; pg_repack reorders a table without the long lock")
}

func (l *linter) checkVacuum(s *pg_query.VacuumStmt) {
	full := false
	for _, n := range s.GetOptions() {
		if d := n.GetDefElem(); strings.EqualFold(d.GetDefname(), "full") && d.GetArg().GetString_().GetSval() != "false" {
			full = true
		}
	}
	if !full || !s.GetIsVacuumcmd() {
		return
	}
	fix := "leave VACUUM FULL out of migrations (it cannot run in a transaction block either); plain VACUUM, or pg_repack, reclaims space without the long lock"
	if len(s.GetRels()) == 0 {
		l.report(RuleExclusiveRebuild, "VACUUM FULL without a table rebuilds every table of the database under ACCESS EXCLUSIVE locks", fix)
		return
	}
	for _, n := range s.GetRels() {
		l.reportRebuild("VACUUM FULL", relKey(n.GetVacuumRelation().GetRelation()), fix)
	}
}

func (l *linter) checkRefresh(s *pg_query.RefreshMatViewStmt) {
	if s.GetConcurrent() {
		return
	}
	l.reportRebuild("REFRESH MATERIALIZED VIEW", relKey(s.GetRelation()),
		"REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index on the view) lets reads go on; or refresh it from a job, not a migration")
}

// checkSetLogged handles ALTER TABLE … SET LOGGED / SET UNLOGGED.
func (l *linter) checkSetLogged(table string, logged bool) {
	what := "SET UNLOGGED"
	if logged {
		what = "SET LOGGED"
	}
	l.reportRebuild("ALTER TABLE … "+what, table,
		"create the new table beside the old one with the persistence you want, copy in batches, then switch in a later release")
}
