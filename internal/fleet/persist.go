package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bascule/bascule/internal/router"
)

// LoadTable reads the table a router persisted. A missing file is not an
// error: it returns an empty table with blue live at generation 0.
//
// It is the same file format as the control plane's routing.json; the
// router process cannot import the control plane's reader, so it has its
// own.
func LoadTable(path string) (router.Table, error) {
	t := router.Table{Live: router.Blue, Upstreams: map[router.Color]string{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return t, fmt.Errorf("read routing table: %w", err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("parse routing table %s: %w", path, err)
	}
	if _, err := router.ParseColor(string(t.Live)); err != nil {
		return t, fmt.Errorf("parse routing table %s: %w", path, err)
	}
	if t.Upstreams == nil {
		t.Upstreams = map[router.Color]string{}
	}
	return t, nil
}

// SaveTable writes t atomically: a temporary file, fsync, rename, so a
// crash leaves the old table or the new one, never a torn one.
func SaveTable(path string, t router.Table) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode routing table: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("save routing table: %w", err)
	}
	defer os.Remove(tmp.Name())
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
		return fmt.Errorf("save routing table: %w", err)
	}
	return nil
}
