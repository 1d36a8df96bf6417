package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/bascule/bascule/internal/testproc"
	"github.com/bascule/bascule/internal/testreport"
	"github.com/jackc/pgx/v5/pgconn"
)

// skips records the tests of this test binary skipped for want of
// PostgreSQL. It is process-wide because the binary is: one line for all.
var skips testreport.Skips

// postgres is how tests launch a server.
var postgres = &testproc.Dependency[*Server]{Name: "postgres", Launch: Launch, Timeout: startTimeout,
	NotInstalled: ErrNotInstalled, Skips: &skips}

// Start starts a server for t alone and stops it in t.Cleanup. If PostgreSQL
// is not installed it skips t, or fails it when $CI is true.
func Start(t testing.TB) *Server {
	t.Helper()
	return postgres.Start(t)
}

// NewDatabase creates an empty database for t and drops it in t.Cleanup,
// ending any connection t left open. It returns the database's URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", s.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return s.URL(name)
}

// exec runs sql on the maintenance database.
func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgconn.Connect(ctx, s.AdminURL())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql).ReadAll()
	return err
}

// Shared is a server started on first use and shared by the tests of a
// package; see the package comment. Its zero value is ready to use.
type Shared struct{ s testproc.Shared[*Server] }

// Server returns the shared server, starting it on the first call. If
// PostgreSQL is not installed it skips t, or fails it when $CI is true.
func (s *Shared) Server(t testing.TB) *Server {
	t.Helper()
	return s.s.Get(t, postgres)
}

// NewDatabase creates an empty database on the shared server for t; see
// Server.NewDatabase.
func (s *Shared) NewDatabase(t testing.TB) string {
	t.Helper()
	return s.Server(t).NewDatabase(t)
}

// Stop stops the server if it was started. After Stop, Server no longer
// starts one.
func (s *Shared) Stop() error { return s.s.Stop() }

// ReportSkips reports the tests skipped for want of PostgreSQL, so that a
// normal `make test` shows them (see package testreport). Shared.Run calls
// it; a TestMain that uses only Start calls it after m.Run.
func ReportSkips() { skips.Report() }

// Run runs the tests, then stops the server; TestMain passes its result to
// os.Exit. If the tests passed but the server could not be stopped cleanly,
// the result is a failure.
func (s *Shared) Run(m *testing.M) int { return s.s.Run(m, postgres) }
