//go:build linux

package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bascule/bascule/internal/atomicfile"
	"github.com/bascule/bascule/internal/runtime"
)

// state is what Dir/<color>/instance.json records, so that a later bascule
// can re-attach to an app that outlived the one that started it.
type state struct {
	runtime.Instance
	// Index is the process's instance number in its color, 0 for the first
	// (Dir/<color>/instance.json); instance N > 0 is recorded in
	// Dir/<color>/instance-N.json.
	Index int `json:"index,omitempty"`
	PGID  int `json:"pgid"`
	// ProcStart is field 22 of /proc/<pid>/stat when the app started. It
	// tells our app apart from a later process that reused its pid.
	ProcStart uint64 `json:"proc_start"`
}

func (d *Driver) slotDir(color string) string   { return filepath.Join(d.opts.Dir, color) }
func (d *Driver) statePath(color string) string { return d.stateFile(color, 0) }

// stateFile is the state file of instance i of color.
func (d *Driver) stateFile(color string, i int) string {
	if i == 0 {
		return filepath.Join(d.slotDir(color), "instance.json")
	}
	return filepath.Join(d.slotDir(color), "instance-"+strconv.Itoa(i)+".json")
}

// stateFiles returns the state files of color's instances present in its
// directory.
func (d *Driver) stateFiles(color string) []string {
	files, _ := filepath.Glob(filepath.Join(d.slotDir(color), "instance*.json"))
	return files
}

// writeState replaces the state file atomically (temp file, fsync,
// rename), so a crash mid-write leaves the old file or the new one, never
// half of one.
func writeState(path string, st state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// readState reads a state file; it returns fs.ErrNotExist if there is none.
func readState(path string) (state, error) {
	var st state
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("decode state %s: %w", path, err)
	}
	if st.PID <= 1 || st.PGID <= 1 {
		return st, fmt.Errorf("decode state %s: no pid", path)
	}
	return st, nil
}

// removeStateOf removes the state file only if it still records the
// process of st: a driver that lost track of the slot (closed, or a second
// driver in the same process) must not delete the record of a newer app.
func removeStateOf(path string, st state) error {
	cur, err := readState(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && (cur.PID != st.PID || cur.ProcStart != st.ProcStart) {
		return nil
	}
	return removeState(path)
}

func removeState(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state: %w", err)
	}
	return nil
}
