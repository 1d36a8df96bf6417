package flagclient

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bascule/bascule/feature"
)

// loadCache reads the last known good snapshot, or returns nil when there is
// none. A file that cannot be read or decoded is logged and ignored: a bad
// cache must never stop the application, it only costs the offline start.
func (c *Client) loadCache() *feature.Snapshot {
	if c.cacheFile == "" {
		return nil
	}
	data, err := os.ReadFile(c.cacheFile)
	if errors.Is(err, fs.ErrNotExist) {
		c.log.Info("no flag cache file yet", "file", c.cacheFile)
		return nil
	}
	if err != nil {
		c.log.Error("ignoring unreadable flag cache file", "file", c.cacheFile, "err", err)
		return nil
	}
	s, err := feature.DecodeSnapshot(data)
	if err != nil {
		c.log.Error("ignoring corrupt flag cache file", "file", c.cacheFile, "err", err)
		return nil
	}
	return s
}

// writeCache replaces the cache file with data, atomically: a crash mid-way
// leaves the previous file, never half of a new one. Failures are logged.
func (c *Client) writeCache(data []byte) {
	if c.cacheFile == "" || data == nil {
		return
	}
	if err := writeFileAtomic(c.cacheFile, data); err != nil {
		c.log.Error("write flag cache file", "file", c.cacheFile, "err", err)
	}
}

// writeFileAtomic writes a temporary file beside name, syncs it and renames
// it over name.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temporary file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temporary file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temporary file: %w", err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("rename temporary file: %w", err)
	}
	return nil
}
