package auth_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// fastParams keep argon2 cheap in tests; production uses the defaults.
var fastParams = auth.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newAuth returns an Authenticator on a fresh store with users alice
// (admin), dave (deployer) and vic (viewer), each with password
// "password-<name>".
func newAuth(t testing.TB, clk *clock, opts auth.Options) (*auth.Authenticator, *sqlite.DB) {
	t.Helper()
	db := openStore(t)
	opts.Store, opts.Password, opts.Now = db, fastParams, clk.Now
	a := auth.New(opts)
	for name, role := range map[string]string{"alice": "admin", "dave": "deployer", "vic": "viewer"} {
		if _, err := a.Users().Create(context.Background(), name, role, "password-"+name); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	return a, db
}
