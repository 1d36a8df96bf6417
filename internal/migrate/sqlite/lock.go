package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/bascule/bascule/internal/migrate"
)

// lockPoll is how often a run waiting for the migration lock tries again.
const lockPoll = 50 * time.Millisecond

// Lock takes an exclusive flock(2) on a file beside the database,
// DATABASE.migrate-lock. Not a row in the database: taking a row needs
// SQLite's write lock, which any writer of the app holds now and then, so
// a busy app would look like a concurrent migration; and a row outlives a
// bascule that dies, where the kernel drops a flock with its process. An
// SQLite database lives on one host, which is all flock has to cover.
// The file names the holder, for the message of a run that has to wait.
func (Dialect) Lock(ctx context.Context, db *sql.DB, wait time.Duration, note func(string)) (func() error, error) {
	path, err := lockPath(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	noted := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("take migration lock %s: %w", path, err)
		}
		holder := readHolder(path)
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: %s, for more than %s: let it finish, then deploy again", migrate.ErrLocked, holder, wait)
		}
		if !noted && note != nil {
			note(fmt.Sprintf("the migration lock is held by %s; waiting up to %s", holder, wait))
			noted = true
		}
		if err := pause(ctx, lockPoll); err != nil {
			f.Close()
			return nil, err
		}
	}
	writeHolder(f)
	return func() error {
		f.Truncate(0)
		// Closing the file releases the flock.
		if err := f.Close(); err != nil {
			return fmt.Errorf("release migration lock: %w", err)
		}
		return nil
	}, nil
}

// lockPath is the lock file of db's main database.
func lockPath(ctx context.Context, db *sql.DB) (string, error) {
	var seq int
	var name, file string
	if err := db.QueryRowContext(ctx, "SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'").Scan(&seq, &name, &file); err != nil {
		return "", err
	}
	if file == "" {
		return "", errors.New("an in-memory database has no file to lock beside")
	}
	return file + ".migrate-lock", nil
}

func writeHolder(f *os.File) {
	host, _ := os.Hostname()
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("bascule pid %d on %s since %s", os.Getpid(), host, time.Now().UTC().Format(time.DateTime))), 0)
}

func readHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "another run"
	}
	return strings.TrimSpace(string(b))
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
