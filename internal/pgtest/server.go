package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bascule/bascule/internal/testproc"
	"github.com/bascule/bascule/internal/testreport"
	"github.com/jackc/pgx/v5/pgconn"
)

// Server is a PostgreSQL server started by this process. Its superuser is
// "postgres", authenticated by trust, reachable on 127.0.0.1 only.
type Server struct {
	dir  string // the temporary directory holding data, socket and log; removed by Stop
	port int
	acct account
	proc *testproc.Process

	seq      atomic.Int64 // numbers the databases made by NewDatabase
	stopOnce sync.Once
	stopErr  error
}

const (
	// startTimeout bounds initdb plus the server's start in Start and Shared.
	startTimeout = 60 * time.Second
	// stopGrace is how long an immediate shutdown may take before SIGKILL.
	stopGrace = 10 * time.Second
	// portAttempts is how many free ports are tried: another process may
	// take the port between our probe and the server's bind.
	portAttempts = 3
)

// Launch initializes a cluster in a new temporary directory and starts a
// server on it. It returns an error wrapping ErrNotInstalled if the binaries
// cannot be found. The caller must call Stop.
func Launch(ctx context.Context) (*Server, error) {
	if testreport.Without("postgresql") {
		return nil, fmt.Errorf("%s=postgresql: %w", testreport.WithoutEnv, ErrNotInstalled)
	}
	bins, err := findBinaries(os.Getenv, wellKnownDirs())
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	s := &Server{acct: acct}
	err = s.makeDir()
	if err == nil {
		err = s.launch(ctx, bins)
	}
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

func (s *Server) launch(ctx context.Context, bins binaries) error {
	if err := s.initdb(ctx, bins); err != nil {
		return err
	}
	var err error
	for range portAttempts {
		if err = s.startPostgres(ctx, bins); !errors.Is(err, errPortTaken) {
			return err
		}
	}
	return err
}

// makeDir creates the server's directory, owned by the server's account,
// after removing what earlier test binaries that died left behind.
func (s *Server) makeDir() error {
	root, err := s.acct.tempRoot()
	if err != nil {
		return err
	}
	reapStale(root)
	s.dir, err = os.MkdirTemp(root, dirPrefix+"*")
	if err != nil {
		return fmt.Errorf("create postgres directory: %w", err)
	}
	if err := writeOwner(s.dir); err != nil {
		return err
	}
	if err := os.Mkdir(s.socketDir(), 0o700); err != nil {
		return fmt.Errorf("create socket directory: %w", err)
	}
	if err := s.acct.own(s.dir); err != nil {
		return err
	}
	return s.acct.own(s.socketDir())
}

func (s *Server) dataDir() string   { return filepath.Join(s.dir, "data") }
func (s *Server) socketDir() string { return filepath.Join(s.dir, "sock") }
func (s *Server) logPath() string   { return filepath.Join(s.dir, "postgres.log") }

// command prepares one of the PostgreSQL programs to run as the server's
// account with a small, predictable environment: no PG* variables of the
// developer's leak in.
func (s *Server) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "LANG=C", "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.acct.credential, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func (s *Server) initdb(ctx context.Context, bins binaries) error {
	cmd := s.command(ctx, bins.initdb, "-D", s.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("run initdb as %s (%s): %w\n%s", s.acct.name, bins, err, out)
	}
	return nil
}

// errPortTaken means the server lost the race for its port.
var errPortTaken = errors.New("port taken")

func (s *Server) startPostgres(ctx context.Context, bins binaries) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create postgres log: %w", err)
	}
	// Truncated at each attempt so that a port lost earlier is not taken for
	// the cause of a later failure. The child holds its own descriptor.
	defer logFile.Close()
	// Not tied to ctx: ctx bounds the start, not the server's life.
	cmd := s.command(context.Background(), bins.postgres, "-D", s.dataDir(), "-p", strconv.Itoa(port),
		"-k", s.socketDir(), "-h", "127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB", "-c", "timezone=UTC")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := testproc.Start("postgres", cmd, syscall.SIGQUIT)
	if err != nil {
		return err
	}
	s.proc, s.port = proc, port
	return s.waitReady(ctx)
}

// waitReady polls until the server accepts a connection, it exits, or ctx
// ends.
func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := s.ping(ctx); err == nil {
			return nil
		}
		select {
		case <-s.proc.Done():
			log := s.logTail()
			if bytes.Contains(log, []byte("Address already in use")) {
				return fmt.Errorf("start postgres on port %d: %w", s.port, errPortTaken)
			}
			return fmt.Errorf("start postgres: exited (%v):\n%s", s.proc.Err(), log)
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres on port %d: %w\n%s", s.port, ctx.Err(), s.logTail())
		case <-tick.C:
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, s.AdminURL())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() []byte {
	b, _ := os.ReadFile(s.logPath())
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return b
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the connection URL of database db as the superuser.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, url.PathEscape(db))
}

// AdminURL is the connection URL of the "postgres" maintenance database.
func (s *Server) AdminURL() string { return s.URL("postgres") }

// Stop shuts the server down and removes its directory. It is safe to call
// more than once and from several goroutines.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.proc != nil {
			errs = append(errs, s.proc.Stop(syscall.SIGQUIT, stopGrace))
		}
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove postgres directory: %w", err))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}
