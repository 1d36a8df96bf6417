package migrate

// Severity says whether a finding blocks the deployment.
type Severity string

const (
	// SeverityError blocks the deployment unless the finding is allowed.
	SeverityError Severity = "error"
	// SeverityWarning is reported but does not block.
	SeverityWarning Severity = "warning"
)

// Rule names, as findings and "-- bascule:allow" comments spell them.
const (
	RuleDropTable                      = "drop-table"
	RuleDropColumn                     = "drop-column"
	RuleRenameTable                    = "rename-table"
	RuleRenameColumn                   = "rename-column"
	RuleChangeColumnType               = "change-column-type"
	RuleSetNotNull                     = "set-not-null"
	RuleAddColumnNotNullWithoutDefault = "add-column-not-null-without-default"
	RuleAddColumnVolatileDefault       = "add-column-volatile-default"
	RuleCreateIndexNonConcurrently     = "create-index-non-concurrently"
	RuleDropIndexNonConcurrently       = "drop-index-non-concurrently"
	RuleReindexNonConcurrently         = "reindex-non-concurrently"
	RuleConcurrentlyInTransaction      = "concurrently-in-transaction"
	RuleAddConstraintWithoutNotValid   = "add-constraint-without-not-valid"
	RuleAddUniqueOrPrimaryKey          = "add-unique-or-primary-key"
	RuleTruncate                       = "truncate"
	RuleDropNotNull                    = "drop-not-null"
	RuleSetTimeout                     = "set-timeout"
	RuleConstraintNarrowsWrites        = "constraint-narrows-writes"
	RuleUnbatchedUpdate                = "unbatched-update"
	RuleLockTable                      = "lock-table"
	RuleDropView                       = "drop-view"
	RuleDDLInFunction                  = "ddl-in-function"
	RuleExclusiveRebuild               = "exclusive-rebuild"
	RuleDetachPartition                = "detach-partition"
	RuleRenameEnumValue                = "rename-enum-value"

	// RuleParseError is a statement PostgreSQL's parser refuses.
	RuleParseError = "parse-error"
	// RuleAllowWithoutReason is an allow comment that gives no reason.
	RuleAllowWithoutReason = "allow-without-reason"
	// RuleAllowUnknownRule is an allow comment naming no known rule.
	RuleAllowUnknownRule = "allow-unknown-rule"
)

// ruleInfo describes a rule: how bad it is and whether it is about locks,
// the only kind that also applies to contract migrations (which run while
// the new release is live, but may remove what the previous one needed).
type ruleInfo struct {
	name     string
	severity Severity
	locking  bool
}

// ruleCatalog returns the rules a finding can carry and an allow comment can
// name. It returns an array by value, so no caller can change the catalog.
func ruleCatalog() [25]ruleInfo {
	return [...]ruleInfo{
		{RuleDropTable, SeverityError, false},
		{RuleDropColumn, SeverityError, false},
		{RuleRenameTable, SeverityError, false},
		{RuleRenameColumn, SeverityError, false},
		{RuleChangeColumnType, SeverityError, true},
		{RuleSetNotNull, SeverityError, true},
		{RuleAddColumnNotNullWithoutDefault, SeverityError, false},
		{RuleAddColumnVolatileDefault, SeverityError, true},
		{RuleCreateIndexNonConcurrently, SeverityError, true},
		{RuleDropIndexNonConcurrently, SeverityError, true},
		{RuleReindexNonConcurrently, SeverityError, true},
		{RuleConcurrentlyInTransaction, SeverityError, true},
		{RuleAddConstraintWithoutNotValid, SeverityError, true},
		{RuleAddUniqueOrPrimaryKey, SeverityError, true},
		{RuleTruncate, SeverityError, false},
		{RuleDropNotNull, SeverityWarning, false},
		{RuleSetTimeout, SeverityError, true},
		{RuleConstraintNarrowsWrites, SeverityWarning, false},
		{RuleUnbatchedUpdate, SeverityWarning, true},
		{RuleLockTable, SeverityError, true},
		{RuleDropView, SeverityError, false},
		{RuleDDLInFunction, SeverityWarning, false},
		{RuleExclusiveRebuild, SeverityError, true},
		{RuleDetachPartition, SeverityError, true},
		{RuleRenameEnumValue, SeverityError, false},
	}
}

// lookupRule returns the catalog entry of a rule name.
func lookupRule(name string) (ruleInfo, bool) {
	for _, r := range ruleCatalog() {
		if r.name == name {
			return r, true
		}
	}
	return ruleInfo{}, false
}

// RuleNames returns the names of the rules that an allow comment can name,
// in the order of the catalog.
func RuleNames() []string {
	catalog := ruleCatalog()
	names := make([]string, len(catalog))
	for i, r := range catalog {
		names[i] = r.name
	}
	return names
}

// appliesTo reports whether the rule is checked in a phase: every rule in
// expand; in contract the locking ones, and the renames, which break the
// release that is live then as much as the one before (each release was
// built against one name, and only one exists at a time).
func (r ruleInfo) appliesTo(p Phase) bool {
	return p == Expand || r.locking || r.name == RuleRenameTable || r.name == RuleRenameColumn
}
