package pgtest

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestNewDatabaseServesFastThrowAwayDatabase(t *testing.T) {
	t.Parallel()
	u := pg.NewDatabase(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, u)
	if got, want := queryString(t, conn, "SELECT current_database()"), strings.TrimPrefix(parsed.Path, "/"); got != want {
		t.Errorf("connected to database %q, want %q from URL %s", got, want, u)
	}
	if got := queryString(t, conn, "SELECT host(inet_server_addr())"); got != "127.0.0.1" {
		t.Errorf("server address = %s, want 127.0.0.1", got)
	}
	for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		if got := queryString(t, conn, "SELECT current_setting($1)", setting); got != "off" {
			t.Errorf("%s = %s, want off", setting, got)
		}
	}
}

func TestDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := connect(t, pg.NewDatabase(t)), connect(t, pg.NewDatabase(t))
	if _, err := a.Exec(context.Background(), "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, b, "SELECT coalesce(to_regclass('only_in_a')::text, 'none')"); got != "none" {
		t.Errorf("table of database a seen from database b as %s, want none", got)
	}
}

func TestDatabaseDroppedWhenTestEnds(t *testing.T) {
	t.Parallel()
	var name string
	var leaked *pgx.Conn
	t.Run("user", func(t *testing.T) {
		u := pg.NewDatabase(t)
		var err error
		// A test that forgets to close its connection must not make the
		// drop fail: leaked stays open until after the subtest's cleanups.
		if leaked, err = pgx.Connect(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		name = queryString(t, leaked, "SELECT current_database()")
	})
	if leaked != nil {
		leaked.Close(context.Background())
	}
	admin := connect(t, pg.Server(t).AdminURL())
	if got := queryString(t, admin, "SELECT count(*)::text FROM pg_database WHERE datname = $1", name); got != "0" {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestServerRunsAsUnprivilegedUser(t *testing.T) {
	t.Parallel()
	srv := pg.Server(t)
	uid := processUID(t, srv.proc.Pid())
	if os.Geteuid() == 0 && uid == 0 {
		t.Errorf("postgres runs as root (uid 0); want the postgres or nobody user")
	}
	if os.Geteuid() != 0 && uid != os.Geteuid() {
		t.Errorf("postgres runs as uid %d, want ours, %d", uid, os.Geteuid())
	}
}

// processUID reads the real UID of pid from /proc.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("read process status: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return -1
}

func TestStopEndsServerAndRemovesDirectory(t *testing.T) {
	t.Parallel()
	srv := Start(t)
	pid, dir := srv.proc.Pid(), srv.dir
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if alive(pid) {
		t.Errorf("postmaster %d alive after Stop", pid)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s after Stop: %v, want it removed", dir, err)
	}
	if err := srv.ping(context.Background()); err == nil {
		t.Errorf("server accepts connections after Stop")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop = %v, want nil", err)
	}
}

const crashHelperEnv = "PGTEST_CRASH_HELPER"

// crashHelper runs in a child test binary: it starts a server, reports it,
// and dies without stopping it, as a panicking test binary would.
func crashHelper() {
	srv, err := Launch(context.Background())
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString(strconv.Itoa(srv.proc.Pid()) + " " + srv.dir + "\n")
	panic("simulated crash of a test binary")
}

func TestServerDiesWithTestBinary(t *testing.T) {
	t.Parallel()
	pg.Server(t) // skips or fails like the others when PostgreSQL is missing
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1")
	out, _ := cmd.Output() // the helper's exit status is the panic's
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		t.Fatalf("crash helper printed %q, want \"PID DIR\"", out)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		t.Fatalf("crash helper printed %q: %v", out, err)
	}
	dir := fields[1]
	waitFor(t, "postmaster of a crashed test binary to exit", 20*time.Second, func() bool { return !alive(pid) })
	reapStale(filepath.Dir(dir))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s of a crashed test binary after reaping: %v, want it removed", dir, err)
	}
}
