// Package atomicfile writes a file so that a crash leaves the old content
// or the new, never a torn file: the state bascule keeps on disk (the
// routing table, a progressive go-live, a process driver's instances) is
// read back after a kill -9 or a power cut.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes b to path through a temporary file in the same directory:
// written, synced, renamed over path, then the directory synced so that the
// rename itself survives a power cut.
func Write(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
