package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Record is one applied migration file, a row of HistoryTable.
type Record struct {
	Phase     Phase     `json:"phase"`
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Checksum  string    `json:"checksum"`
	AppliedAt time.Time `json:"applied_at"`
	// Release is the version of the release that applied the file.
	Release string `json:"release"`
}

// DriftError is an applied migration file whose bytes changed since: the
// database no longer matches what the files say, and applying anything
// more would build on a lie. It is never retried.
type DriftError struct {
	Path     string
	Recorded Record
	// Checksum is the file's checksum now.
	Checksum string
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("drift: %s was changed after release %s applied it on %s (recorded checksum %.12s…, the file's is %.12s…); "+
		"an applied migration must never change: restore it and put the change in a new migration",
		e.Path, e.Recorded.Release, e.Recorded.AppliedAt.Format(time.DateTime), e.Recorded.Checksum, e.Checksum)
}

// history reads and writes HistoryTable through a dialect.
type history struct{ d HistorySQL }

// conn is a database pool or one connection of it.
type conn interface {
	execer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (h history) ensure(ctx context.Context, db conn) error {
	if _, err := db.ExecContext(ctx, h.d.HistoryDDL()); err != nil {
		return fmt.Errorf("create %s: %w", HistoryTable, err)
	}
	return nil
}

// load returns the applied files in phase then version order.
func (h history) load(ctx context.Context, db conn) ([]Record, error) {
	rows, err := db.QueryContext(ctx, "SELECT phase, version, name, checksum, applied_at, release FROM "+HistoryTable+
		" ORDER BY phase DESC, version")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", HistoryTable, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var at string
		if err := rows.Scan(&r.Phase, &r.Version, &r.Name, &r.Checksum, &at, &r.Release); err != nil {
			return nil, fmt.Errorf("read %s: %w", HistoryTable, err)
		}
		r.AppliedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", HistoryTable, err)
	}
	return out, nil
}

// execer is a transaction or a connection.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// record inserts f's row, in the transaction that applied f when there is
// one, so that a file is recorded if and only if it is applied.
func (h history) record(ctx context.Context, ex execer, f *File, release string, at time.Time) error {
	p := h.d.Placeholder
	q := fmt.Sprintf("INSERT INTO %s (phase, version, name, checksum, applied_at, release) VALUES (%s, %s, %s, %s, %s, %s)",
		HistoryTable, p(1), p(2), p(3), p(4), p(5), p(6))
	if _, err := ex.ExecContext(ctx, q, string(f.Phase), f.Version, f.Name, f.Checksum,
		at.UTC().Format(time.RFC3339Nano), release); err != nil {
		return fmt.Errorf("record %s in %s: %w", f.Path, HistoryTable, err)
	}
	return nil
}

// key identifies a file in the history.
type key struct {
	phase   Phase
	version int
}

func index(records []Record) map[key]Record {
	m := make(map[key]Record, len(records))
	for _, r := range records {
		m[key{r.Phase, r.Version}] = r
	}
	return m
}

// checkDrift returns a *DriftError for the first of files that is recorded
// with another checksum.
func checkDrift(files []*File, applied map[key]Record) error {
	for _, f := range files {
		if r, ok := applied[key{f.Phase, f.Version}]; ok && r.Checksum != f.Checksum {
			return &DriftError{Path: f.Path, Recorded: r, Checksum: f.Checksum}
		}
	}
	return nil
}

// pending returns the files that are not recorded, in order.
func pending(files []*File, applied map[key]Record) []*File {
	var out []*File
	for _, f := range files {
		if _, ok := applied[key{f.Phase, f.Version}]; !ok {
			out = append(out, f)
		}
	}
	return out
}

// Comparison is a release's migrations set against a database's history,
// for `bascule migrate status`.
type Comparison struct {
	// Pending are the release's files not applied yet.
	Pending []*File
	// Drift are the applied files whose bytes changed.
	Drift []*DriftError
}

// Compare sets a release's migrations against the applied records.
func Compare(set *Set, applied []Record) Comparison {
	idx := index(applied)
	var c Comparison
	if set == nil {
		return c
	}
	files := set.Files()
	c.Pending = pending(files, idx)
	for _, f := range files {
		if err := checkDrift([]*File{f}, idx); err != nil {
			c.Drift = append(c.Drift, err.(*DriftError))
		}
	}
	return c
}

// Since returns the files of set that prev, the migrations of the release
// before, does not have: the files new in this release, which a deployment
// would apply, for a lint offline. A file of both with other bytes is an
// error: an applied migration must never change.
func Since(set, prev *Set) (*Set, error) {
	var applied []Record
	for _, f := range prev.Files() {
		applied = append(applied, Record{Phase: f.Phase, Version: f.Version, Name: f.Name, Checksum: f.Checksum})
	}
	idx := index(applied)
	for _, f := range set.Files() {
		if r, ok := idx[key{f.Phase, f.Version}]; ok && r.Checksum != f.Checksum {
			return nil, fmt.Errorf("%s differs from %s of the previous release: an applied migration must never change; "+
				"restore it and put the change in a new migration", f.Path, string(r.Phase)+"/"+fmt.Sprintf("%03d_%s.sql", r.Version, r.Name))
		}
	}
	return &Set{Expand: pending(set.Expand, idx), Contract: pending(set.Contract, idx)}, nil
}
