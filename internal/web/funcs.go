package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/flag"
	"github.com/bascule/bascule/internal/guard"
)

func funcs() template.FuncMap {
	return template.FuncMap{
		"static":      staticURL,
		"when":        when,
		"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"dur":         duration,
		"short":       shortDigest,
		"shortImage":  shortImage,
		"percent":     pct,
		"lines":       func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") },
		"join":        strings.Join,
		"describe":    flag.Describe,
		"inc":         func(i int) int { return i + 1 },
		"dialog":      newDialog,
		"inc64":       func(i int64) int64 { return i + 1 },
		"segmentForm": segmentForm,
		"share":       guard.Percent,
		"joinInts":    joinInts,
		"trimGuard":   func(s string) string { return strings.TrimPrefix(s, "guard: ") },
	}
}

// when is a time as operators read it in an incident: UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// duration reads "0.4s", "12.3s", "2m05s" or "1h02m".
func duration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// shortDigest is "sha256:0123456789ab", enough to tell releases apart.
func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// shortImage is an image reference with its digest shortened:
// "registry.example.com/shop@sha256:0123456789ab".
func shortImage(ref string) string {
	name, digest, ok := strings.Cut(ref, "@")
	if !ok {
		return ref
	}
	return name + "@" + shortDigest(digest)
}

// dialogView is the confirmation dialog of an overview action.
type dialogView struct {
	ID, Question, Detail, Kind string
	Echo                       bool // the question ends with the release chosen in the form
}

func newDialog(id, question, detail, kind string) dialogView {
	return dialogView{ID: id, Question: question, Detail: detail, Kind: kind, Echo: id == "deploy"}
}

// segmentFormView fills the segment editor; Row is nil for a new segment.
type segmentFormView struct {
	Row       *segmentRow
	Operators []flag.Operator
}

func segmentForm(v segmentsView, row any) segmentFormView {
	f := segmentFormView{Operators: v.Operators}
	if r, ok := row.(segmentRow); ok {
		f.Row = &r
	}
	return f
}

// joinInts is "1,10,50,100".
func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ",")
}
