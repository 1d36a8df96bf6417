package migrate

import (
	"encoding/json"
	"fmt"
	"io"
)

// Finding is one problem the linter found in one statement.
type Finding struct {
	// File is the migration's path, e.g. "expand/003_idx.sql".
	File string `json:"file"`
	Line int    `json:"line"`
	Rule string `json:"rule"`
	// Severity is error (blocks the deployment unless allowed) or warning.
	Severity Severity `json:"severity"`
	// Message says why the statement breaks the live release or locks
	// production.
	Message string `json:"message"`
	// Fix is the safe multi-step alternative.
	Fix string `json:"fix,omitempty"`
	// Allowed is set when a "-- bascule:allow" comment with a reason accepts
	// the finding; AllowReason is that reason, for the deployment record.
	Allowed     bool   `json:"allowed"`
	AllowReason string `json:"allow_reason,omitempty"`
}

// blocking reports whether the finding stops a deployment.
func (f Finding) blocking() bool {
	return f.Severity == SeverityError && !f.Allowed
}

// Report is the result of linting a Set.
type Report struct {
	// Files is how many migration files were checked.
	Files    int       `json:"files"`
	Findings []Finding `json:"findings"`
}

// HasErrors reports whether a finding blocks the deployment: an error that
// no allow comment accepted.
func (r Report) HasErrors() bool {
	for _, f := range r.Findings {
		if f.blocking() {
			return true
		}
	}
	return false
}

// counts returns the numbers of blocking errors, warnings and allowed
// findings.
func (r Report) counts() (errs, warnings, allowed int) {
	for _, f := range r.Findings {
		switch {
		case f.Allowed:
			allowed++
		case f.Severity == SeverityError:
			errs++
		default:
			warnings++
		}
	}
	return errs, warnings, allowed
}

// WriteText writes one finding per line, "file:line: severity rule:
// message", followed by an indented "fix:" line (or "allowed:" with the
// reason), then a summary line.
func (r Report) WriteText(w io.Writer) error {
	for _, f := range r.Findings {
		label := string(f.Severity)
		if f.Allowed {
			label = "allowed"
		}
		if _, err := fmt.Fprintf(w, "%s:%d: %s %s: %s\n", f.File, f.Line, label, f.Rule, f.Message); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		next := "  fix: " + f.Fix
		if f.Allowed {
			next = "  reason: " + f.AllowReason
		}
		if _, err := fmt.Fprintln(w, next); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	errs, warnings, allowed := r.counts()
	_, err := fmt.Fprintf(w, "%d %s checked: %d %s, %d %s, %d allowed\n",
		r.Files, plural(r.Files, "file"), errs, plural(errs, "error"), warnings, plural(warnings, "warning"), allowed)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// jsonReport is the shape of WriteJSON's output.
type jsonReport struct {
	Files    int       `json:"files"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Allowed  int       `json:"allowed"`
	Findings []Finding `json:"findings"`
}

// WriteJSON writes the report as one indented JSON object with the counts
// and the findings (an empty list, never null).
func (r Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Files: r.Files, Findings: r.Findings}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	out.Errors, out.Warnings, out.Allowed = r.counts()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
