package deploy

import (
	"fmt"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/guard"
)

// Summary says in one line, for people, what the guard sees or saw: the
// CLI prints it and the web UI shows it.
func (g GuardStatus) Summary() string {
	seen := g.Seen()
	switch g.State {
	case GuardWatching:
		if g.EndsAt.IsZero() {
			return fmt.Sprintf("guard: watching %s on %s until the progressive go-live ends: %s", g.Version, g.Color, seen)
		}
		return fmt.Sprintf("guard: watching %s on %s, %s left: %s", g.Version, g.Color, g.Left(), seen)
	case GuardPassed:
		return fmt.Sprintf("guard: %s passed: %s; it stays live on %s", g.Version, seen, g.Color)
	case GuardRolledBack:
		return fmt.Sprintf("guard: rolled %s back to %s: %s", g.Version, g.From, strings.TrimPrefix(g.Reason, "guard: "))
	case GuardUnsafe:
		return fmt.Sprintf("%s; %s is still live on %s: act now", g.Reason, g.Version, g.Color)
	}
	return fmt.Sprintf("guard: stood down from %s: %s", g.Version, g.Reason)
}

// Seen is what the guard counted: requests and errors of the watched
// color against the baseline, and the p99s when known.
func (g GuardStatus) Seen() string {
	seen := fmt.Sprintf("%d requests, %s failed", g.Requests, guard.Percent(g.ErrorRate))
	if g.BaselineRequests > 0 {
		seen += fmt.Sprintf(" (baseline %s of %d)", guard.Percent(g.BaselineErrorRate), g.BaselineRequests)
	} else {
		seen += " (no baseline)"
	}
	if g.P99 > 0 {
		seen += ", p99 " + shortDuration(g.P99)
		if g.BaselineP99 > 0 {
			seen += " (baseline " + shortDuration(g.BaselineP99) + ")"
		}
	}
	return seen
}

// Left is what remains of the window, to the second.
func (g GuardStatus) Left() time.Duration {
	return time.Duration(g.LeftSeconds * float64(time.Second)).Round(time.Second)
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
