// Package migrate holds bascule's database migrations: the two-phase
// migration files of a release (expand before the switch, contract at
// finalize), their parser, and the linter that proves an expand step keeps
// the live release working.
package migrate

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Phase says when a migration runs relative to the traffic switch.
type Phase string

const (
	// Expand migrations run before the new release starts and must stay
	// compatible with the live release.
	Expand Phase = "expand"
	// Contract migrations run when the release is finalized and remove what
	// only the previous release needed.
	Contract Phase = "contract"
)

// File is one parsed migration file. It is what a runner applies: the Up
// statements in order, in one transaction unless NoTransaction is set.
type File struct {
	Phase   Phase
	Version int
	// Name is the part of the file name after "NNN_", without ".sql".
	Name string
	// Path is relative to the migrations folder, e.g. "expand/003_idx.sql";
	// findings and errors name files by it.
	Path string
	// Checksum is the lowercase hex SHA-256 of the file's bytes; a runner
	// records it and treats a change in an applied file as drift.
	Checksum string
	// NoTransaction is set by "-- +goose NO TRANSACTION": each statement
	// then runs on its own, as CREATE INDEX CONCURRENTLY requires.
	NoTransaction bool
	// Statements are the Up statements, the ones that are applied.
	Statements []Statement
	// Down holds the statements after "-- +goose Down". bascule never runs
	// them (rollback is a traffic switch), but keeps them for goose users.
	Down []Statement
}

// Statement is one SQL statement of a migration file.
type Statement struct {
	// SQL is the statement exactly as written, including its terminating
	// semicolon when it has one and any comments inside it.
	SQL string
	// Line is the 1-based line of the file on which the statement starts.
	Line int
	// Offset is the byte offset in the file at which the statement starts.
	Offset int
	// Allows are the "-- bascule:allow rule reason" comments that apply to
	// this statement.
	Allows []Allow
}

// Allow accepts one linter rule's finding for one statement. A reason is
// mandatory: the deployment record keeps it, and Lint refuses an Allow
// without one.
type Allow struct {
	Rule   string
	Reason string
	// Line is the 1-based line of the allow comment.
	Line int
}

// Set is the migrations of one release, each phase sorted by version.
type Set struct {
	Expand   []*File
	Contract []*File
}

// Files returns the expand files then the contract files, the order in which
// a release applies them.
func (s *Set) Files() []*File {
	return slices.Concat(s.Expand, s.Contract)
}

// LoadDir reads the migrations folder dir of fsys: dir/expand/NNN_name.sql
// and dir/contract/NNN_name.sql. A missing phase folder means no migrations
// for that phase; files not ending in ".sql" are ignored. A badly named file,
// two files with the same version in one phase, or a file that does not parse
// is an error that names the file.
func LoadDir(fsys fs.FS, dir string) (*Set, error) {
	set := &Set{}
	for _, phase := range []Phase{Expand, Contract} {
		files, err := loadPhase(fsys, dir, phase)
		if err != nil {
			return nil, err
		}
		if phase == Expand {
			set.Expand = files
		} else {
			set.Contract = files
		}
	}
	return set, nil
}

func loadPhase(fsys fs.FS, dir string, phase Phase) ([]*File, error) {
	folder := path.Join(dir, string(phase))
	entries, err := fs.ReadDir(fsys, folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", folder, err)
	}
	var files []*File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(folder, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		f, err := ParseFile(string(phase)+"/"+e.Name(), data)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b *File) int { return cmp.Compare(a.Version, b.Version) })
	for i := 1; i < len(files); i++ {
		if files[i].Version == files[i-1].Version {
			return nil, fmt.Errorf("load migrations: %s and %s have the same version %d",
				files[i-1].Path, files[i].Path, files[i].Version)
		}
	}
	return files, nil
}

// parseName splits a path such as "expand/003_add_index.sql" into its phase,
// version and name.
func parseName(p string) (Phase, int, string, error) {
	dir, base := path.Split(p)
	phase := Phase(path.Base(dir))
	if phase != Expand && phase != Contract {
		return "", 0, "", &ParseError{Path: p, Msg: "migration must be in an expand/ or contract/ folder"}
	}
	num, name, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
	if !ok || name == "" || !strings.HasSuffix(base, ".sql") || !allDigits(num) {
		return "", 0, "", &ParseError{Path: p, Msg: "migration file name must be NNN_name.sql"}
	}
	v, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, "", &ParseError{Path: p, Msg: "version " + num + " is out of range"}
	}
	return phase, v, name, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
