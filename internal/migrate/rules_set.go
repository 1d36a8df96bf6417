package migrate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rules about a file's own session settings. bascule bounds every
// statement with lock_timeout and statement_timeout, set again before every
// file; a file that lifts them lifts them for the rest of itself, where a
// statement waiting for a lock queues every production query on its table
// behind it for as long as it waits. pg_dump starts every file it writes
// with SET lock_timeout = 0 and SET statement_timeout = 0.

// timeoutParams are the settings the runner sets, by name.
var timeoutParams = map[string]bool{"lock_timeout": true, "statement_timeout": true}

func (l *linter) checkSet(s *pg_query.VariableSetStmt) {
	name := strings.ToLower(s.GetName())
	if s.GetKind() == pg_query.VariableSetKind_VAR_RESET_ALL {
		l.reportTimeout("lock_timeout", "RESET ALL brings back the server's default lock and statement timeouts (none, unless the server sets them)")
		return
	}
	if !timeoutParams[name] {
		return
	}
	switch s.GetKind() {
	case pg_query.VariableSetKind_VAR_SET_VALUE:
		if len(s.GetArgs()) != 1 {
			return
		}
		l.checkTimeout(name, constText(s.GetArgs()[0]), "SET "+name+" = "+deparseConst(s.GetArgs()[0]))
	case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET:
		l.reportTimeout(name, "RESET "+name+" brings back the server's default (none, unless the server sets one)")
	}
}

// checkSetConfig handles SELECT set_config('lock_timeout', '0', false).
func (l *linter) checkSetConfig(n *pg_query.Node) {
	walk(n, func(m protoreflect.ProtoMessage) {
		fc, ok := m.(*pg_query.FuncCall)
		if !ok || funcName(fc) != "set_config" || len(fc.GetArgs()) < 2 {
			return
		}
		name := strings.ToLower(constText(fc.GetArgs()[0]))
		if timeoutParams[name] {
			l.checkTimeout(name, constText(fc.GetArgs()[1]), "set_config('"+name+"', '"+constText(fc.GetArgs()[1])+"', …)")
		}
	})
}

// checkTimeout reports setting name to value when that is no timeout or a
// longer one than bascule's.
func (l *linter) checkTimeout(name, value, what string) {
	limit := l.limits.LockTimeout
	if name == "statement_timeout" {
		limit = l.limits.StatementTimeout
	}
	d, ok := pgDuration(value)
	switch {
	case !ok:
		return
	case d == 0:
		l.reportTimeout(name, what+" switches the "+strings.ReplaceAll(name, "_", " ")+" off")
	case limit > 0 && d > limit:
		l.reportTimeout(name, fmt.Sprintf("%s raises the %s above bascule's %s", what, strings.ReplaceAll(name, "_", " "), shortDuration(limit)))
	}
}

func (l *linter) reportTimeout(name, what string) {
	why := "a statement after it that waits for a lock makes every production query on its table queue behind it for as long as it waits"
	if name == "statement_timeout" {
		why = "a statement after it may hold its locks for as long as it runs, even after bascule died and can no longer cancel it"
	}
	l.report(RuleSetTimeout, what+" for the rest of this file: "+why,
		fmt.Sprintf("remove it: bascule sets lock_timeout %s and statement_timeout %s before every file "+
			"(a pg_dump preamble can go whole); if one statement truly needs longer, raise migrate.lock_timeout or migrate.statement_timeout, "+
			"or accept it with -- bascule:allow %s <reason>", shortDuration(l.limits.LockTimeout), shortDuration(l.limits.StatementTimeout), RuleSetTimeout))
}

// constText returns the text of a constant argument: a string, an integer
// or a float, as written; "" for anything else.
func constText(n *pg_query.Node) string {
	c := n.GetAConst()
	if c == nil {
		if tc := n.GetTypeCast(); tc != nil {
			return constText(tc.GetArg())
		}
		return ""
	}
	switch {
	case c.GetSval() != nil:
		return c.GetSval().GetSval()
	case c.GetIval() != nil:
		return strconv.FormatInt(int64(c.GetIval().GetIval()), 10)
	case c.GetFval() != nil:
		return c.GetFval().GetFval()
	}
	return ""
}

// deparseConst renders a constant for a message: quoted when it is text.
func deparseConst(n *pg_query.Node) string {
	if c := n.GetAConst(); c != nil && c.GetSval() != nil {
		return "'" + c.GetSval().GetSval() + "'"
	}
	return constText(n)
}

// pgDuration parses a time setting as PostgreSQL does for lock_timeout and
// statement_timeout: a number of milliseconds, or a number with a unit (us,
// ms, s, min, h, d). ok is false when it is not one.
func pgDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || (i == 0 && (s[i] == '-' || s[i] == '+'))) {
		i++
	}
	num, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, false
	}
	unit := map[string]time.Duration{"": time.Millisecond, "us": time.Microsecond, "ms": time.Millisecond,
		"s": time.Second, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	u, ok := unit[strings.TrimSpace(s[i:])]
	if !ok {
		return 0, false
	}
	if num <= 0 {
		return 0, true // negative is refused by PostgreSQL; 0 is off
	}
	return max(time.Duration(num*float64(u)), time.Microsecond), true
}

// shortDuration renders d as a person writes it: "500ms", "10m", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
