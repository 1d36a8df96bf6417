package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// appPrefix starts the application_name of every connection bascule's
// migrations open, unless database.url names one.
const appPrefix = "bascule migrate "

// runToken tells this process's connections from those of an earlier
// bascule process with the same pid (a container restarted): it is drawn
// once per process and never changes.
var runToken = sync.OnceValue(func() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
})

// appName is the application_name of this process's migration
// connections: "bascule migrate pid=123 run=9f2c01ab host=web-1", cut to
// the 63 bytes PostgreSQL keeps.
func appName() string {
	host, _ := os.Hostname()
	return truncate(fmt.Sprintf("%spid=%d run=%s host=%s", appPrefix, os.Getpid(), runToken(), host), 63)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// owner is who opened a connection, as its application_name says.
type owner struct{ pid, run, host string }

func parseAppName(name string) (owner, bool) {
	rest, ok := strings.CutPrefix(name, appPrefix)
	if !ok {
		return owner{}, false
	}
	var o owner
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pid":
			o.pid = v
		case "run":
			o.run = v
		case "host":
			o.host = v
		}
	}
	return o, o.pid != "" && o.run != ""
}

// leftover reports whether a connection named name was opened by a
// bascule process on this host that has ended: its statement may still
// run, holding its locks and the migration lock, because PostgreSQL only
// notices a dead client when it next talks to it. A connection of a
// process that still runs, of this process, or of another host is never
// one: bascule cannot tell whether that process is done with it.
func leftover(name string) bool {
	o, ok := parseAppName(name)
	me, _ := parseAppName(appName())
	if !ok || o.host != me.host || o.run == me.run {
		return false
	}
	if o.pid == me.pid {
		return true // same pid, another run: an earlier incarnation of this process
	}
	pid, err := strconv.Atoi(o.pid)
	if err != nil || pid <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// terminateLeftovers ends the sessions on the app's database that a dead
// bascule left running a migration: its transaction rolls back (nothing of
// a file is half applied) and its locks, the migration lock among them,
// are released, instead of staying held until its statement ends.
func terminateLeftovers(ctx context.Context, conn *sql.Conn, note func(string)) error {
	type backend struct {
		pid        int
		app, state string
		query      string
		since      time.Time
	}
	var found []backend
	rows, err := conn.QueryContext(ctx, `SELECT pid, application_name, coalesce(state, ''), left(coalesce(query, ''), 200), coalesce(query_start, backend_start)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'bascule migrate %'`)
	if err != nil {
		return fmt.Errorf("find leftover migration sessions: %w", err)
	}
	for rows.Next() {
		var b backend
		if err := rows.Scan(&b.pid, &b.app, &b.state, &b.query, &b.since); err != nil {
			rows.Close()
			return fmt.Errorf("find leftover migration sessions: %w", err)
		}
		if leftover(b.app) {
			found = append(found, b)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("find leftover migration sessions: %w", err)
	}
	for _, b := range found {
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", b.pid).Scan(&ok); err != nil || !ok {
			note(fmt.Sprintf("could not end session pid %d (%q), left by a bascule that stopped during a migration: %v", b.pid, b.app, err))
			continue
		}
		if err := waitGone(ctx, conn, b.pid); err != nil {
			return err
		}
		note(fmt.Sprintf("ended session pid %d (%q, %s since %s: %s), left by a bascule that stopped during a migration; its transaction rolled back",
			b.pid, b.app, b.state, b.since.UTC().Format(time.DateTime), oneLine(b.query)))
	}
	return nil
}

// waitGone waits until the backend pid has exited, and its locks with it.
func waitGone(ctx context.Context, conn *sql.Conn, pid int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			return fmt.Errorf("wait for session pid %d to end: %w", pid, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("session pid %d, left by a bascule that stopped during a migration, did not end within 10s of pg_terminate_backend", pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
