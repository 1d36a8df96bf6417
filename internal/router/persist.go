package router

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/bascule/bascule/internal/atomicfile"
)

// LoadTable reads a routing table saved by SaveTable. A missing file is
// not an error: it returns an empty table with blue live, what a router
// serves before its first deployment.
func LoadTable(path string) (Table, error) {
	t := Table{Live: Blue, Upstreams: map[Color]string{}}
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
	if _, err := ParseColor(string(t.Live)); err != nil {
		return t, fmt.Errorf("parse routing table %s: %w", path, err)
	}
	if t.Upstreams == nil {
		t.Upstreams = map[Color]string{}
	}
	return t, nil
}

// SaveTable writes t to path atomically: a temporary file beside it,
// fsync, rename. A crash leaves either the old or the new table, never a
// torn one.
func SaveTable(path string, t Table) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode routing table: %w", err)
	}
	if err := atomicfile.Write(path, b); err != nil {
		return fmt.Errorf("save routing table: %w", err)
	}
	return nil
}
