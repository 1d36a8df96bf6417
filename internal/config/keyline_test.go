package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bascule.yaml")
	os.WriteFile(path, []byte("# bascule\napp: shop\n\nlisten: 127.0.0.1:9080\nhealth_check:\n  interval: 1s\n"), 0o644)
	for key, want := range map[string]int{"listen": 4, "health_check.interval": 6, "control": 0} {
		if got := KeyLine(path, key); got != want {
			t.Errorf("KeyLine(%s) = %d, want %d", key, got, want)
		}
	}
	if got := KeyLine(filepath.Join(t.TempDir(), "none.yaml"), "listen"); got != 0 {
		t.Errorf("KeyLine of a missing file = %d, want 0", got)
	}
}

func TestLoadMissingFileSaysWhereToStart(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "bascule.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "examples/bascule.yaml") {
		t.Errorf("Load of a missing file = %v, want fs.ErrNotExist and where to start", err)
	}
}

// A key indented too far makes go-yaml report the line where the plain
// scalar before it starts; the stray ':' is on the next one.
func TestParseIndentedKeyLine(t *testing.T) {
	_, err := Parse("b.yaml", []byte("app: shop\nhealth_check:\n  path: /x\n   interval: 1s\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "b.yaml:4: invalid YAML") {
		t.Errorf("Parse = %v, want b.yaml:4: invalid YAML", err)
	}
}
