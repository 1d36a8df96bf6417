package yamldoc

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a file. Line is 1-based; 0 means the problem
// concerns the whole file (a key missing altogether, or a YAML error
// without a position).
type Error struct {
	File string
	Line int
	Msg  string
}

// Error formats the problem as "file:line: msg", or "file: msg" for a
// whole-file problem.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a file, so that one run shows the
// person who wrote it all there is to fix.
type Errors []*Error

// Error returns one "file:line: msg" per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual errors to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// Sorted orders es by line in place, keeping discovery order within a
// line; whole-file errors come first. It returns es.
func (es Errors) Sorted() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	return es
}

// Err returns es sorted, or nil when there is no error, so that an empty
// Errors never hides in a non-nil error interface.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es.Sorted()
}

// Suggest returns the candidate closest to a mistyped key, or "" if none
// is close enough to be a plausible typo. Besides whole-key edit distance
// it matches a key against each word of a snake_case candidate, so "helth"
// suggests "health_check".
func Suggest(key string, candidates []string) string {
	key = strings.ToLower(key)
	best, bestDist := "", 0
	for _, c := range candidates {
		d := levenshtein(key, c)
		ok := d <= max(1, len(c)/3)
		for _, word := range strings.Split(c, "_") {
			ok = ok || (len(word) >= 4 && levenshtein(key, word) <= 1)
		}
		if ok && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b, counted in bytes:
// keys are ASCII.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
