package migrate

import "strings"

// Status is what `bascule migrate status` shows: the migration files
// applied to the app's database, per phase, and how a release's files
// compare with them. The API serves it as JSON.
type Status struct {
	// Driver is the app database's driver, "" when the app has none.
	Driver  string   `json:"driver"`
	Applied []Record `json:"applied"`
	// Release is the release compared with the history (the newest
	// registered), "" when there is none.
	Release string `json:"release,omitempty"`
	// ReleaseError says why the release's migrations could not be read.
	ReleaseError string        `json:"release_error,omitempty"`
	Pending      []PendingFile `json:"pending"`
	Drift        []DriftedFile `json:"drift,omitempty"`
}

// PendingFile is a file of the release not applied yet.
type PendingFile struct {
	Phase    Phase  `json:"phase"`
	Version  int    `json:"version"`
	Name     string `json:"name"`
	Path     string `json:"path"`
	Checksum string `json:"checksum"`
}

// DriftedFile is an applied file whose bytes changed since.
type DriftedFile struct {
	Path     string `json:"path"`
	Recorded Record `json:"recorded"`
	Checksum string `json:"checksum"`
}

// NewStatus assembles a Status from the history and, when set is not nil,
// a release's migrations.
func NewStatus(driver string, applied []Record, release string, set *Set) Status {
	st := Status{Driver: driver, Applied: applied, Release: release, Pending: []PendingFile{}}
	if st.Applied == nil {
		st.Applied = []Record{}
	}
	c := Compare(set, applied)
	for _, f := range c.Pending {
		st.Pending = append(st.Pending, PendingFile{Phase: f.Phase, Version: f.Version, Name: f.Name, Path: f.Path, Checksum: f.Checksum})
	}
	for _, d := range c.Drift {
		st.Drift = append(st.Drift, DriftedFile{Path: d.Path, Recorded: d.Recorded, Checksum: d.Checksum})
	}
	return st
}

// ShortSum abbreviates a checksum for tables: its first 12 hex digits.
func ShortSum(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return strings.TrimSpace(sum)
}

// LintResult is a release's lint as the API serves it: the report with its
// counts.
type LintResult struct {
	Version string `json:"version,omitempty"`
	// Migrations is false when the release has no migrations/ folder.
	Migrations bool `json:"migrations"`
	Errors     int  `json:"errors"`
	Warnings   int  `json:"warnings"`
	Allowed    int  `json:"allowed"`
	Report
}

// NewLintResult counts rep's findings.
func NewLintResult(version string, found bool, rep Report) LintResult {
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	res := LintResult{Version: version, Migrations: found, Report: rep}
	res.Errors, res.Warnings, res.Allowed = rep.counts()
	return res
}
