package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// Local administration refuses a data directory that holds no store, and
// a store file of another user, whose service SQLite's side files made by
// root would lock out.
func TestOpenLocalRefusesWrongDirAndOwner(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "typo")
	if _, err := server.OpenLocal(ctx, cfg, "local:test", nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("OpenLocal of a missing data dir = %v, want it said", err)
	}
	if _, err := os.Stat(cfg.DataDir); err == nil {
		t.Errorf("OpenLocal created the missing data dir")
	}

	cfg.DataDir = t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, err := server.OpenLocal(ctx, cfg, "local:test", nil)
	if err != nil {
		t.Fatalf("OpenLocal of the owner's store = %v", err)
	}
	l.Close()
	if os.Geteuid() != 0 {
		return // only root can give the file to someone else
	}
	for _, name := range []string{"bascule.db", "bascule.db-wal", "bascule.db-shm"} {
		os.Chown(filepath.Join(cfg.DataDir, name), 65534, 65534)
	}
	if _, err := server.OpenLocal(ctx, cfg, "local:root", nil); err == nil || !strings.Contains(err.Error(), "run this as that user") {
		t.Errorf("OpenLocal as root of another user's store = %v, want a refusal naming the owner", err)
	}
}
