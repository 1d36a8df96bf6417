package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/bascule/bascule/internal/atomicfile"
	"github.com/bascule/bascule/internal/router"
)

// SaveSettings writes s to path, crash-safe, readable by its owner only
// (atomicfile creates it so):
// it holds the preview token.
func SaveSettings(path string, s router.Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save router settings: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n')); err != nil {
		return fmt.Errorf("save router settings: %w", err)
	}
	return nil
}

// LoadSettings reads what SaveSettings wrote; a missing file is the zero
// Settings (no preview, no limit) and found false.
func LoadSettings(path string) (s router.Settings, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("load router settings: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, fmt.Errorf("load router settings: %s: %w", path, err)
	}
	return s, true, nil
}
