package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/bascule/bascule/internal/testreport"
	"github.com/jackc/pgx/v5/pgconn"
)

// Start starts a server for t alone and stops it in t.Cleanup. If PostgreSQL
// is not installed it skips t, or fails it when $CI is true.
func Start(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := Launch(ctx)
	if err != nil {
		failOrSkip(t, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})
	return s
}

// failOrSkip ends t because no server could be started: a skip with a
// message nobody can miss when PostgreSQL is simply not installed on a
// developer's machine, a failure in CI or for any other cause.
func failOrSkip(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && !testreport.Mandatory(os.Getenv) {
		skips.Skip(t, err.Error())
	}
	t.Fatalf("start postgres: %v", err)
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
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Server returns the shared server, starting it on the first call. If
// PostgreSQL is not installed it skips t, or fails it when $CI is true.
func (s *Shared) Server(t testing.TB) *Server {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		s.srv, s.err = Launch(ctx)
	})
	if s.err != nil {
		failOrSkip(t, s.err)
	}
	if s.srv == nil {
		t.Fatal("pgtest: shared server used after Stop")
	}
	return s.srv
}

// NewDatabase creates an empty database on the shared server for t; see
// Server.NewDatabase.
func (s *Shared) NewDatabase(t testing.TB) string {
	t.Helper()
	return s.Server(t).NewDatabase(t)
}

// Stop stops the server if it was started. After Stop, Server no longer
// starts one.
func (s *Shared) Stop() error {
	s.once.Do(func() {})
	if s.srv == nil {
		return nil
	}
	return s.srv.Stop()
}

// skips records the tests of this test binary skipped for want of
// PostgreSQL. It is process-wide because the binary is: one line for all.
var skips testreport.Skips

// ReportSkips reports the tests skipped for want of PostgreSQL, so that a
// normal `make test` shows them (see package testreport). Shared.Run calls
// it; a TestMain that uses only Start calls it after m.Run.
func ReportSkips() { skips.Report() }

// Run runs the tests, then stops the server; TestMain passes its result to
// os.Exit. If the tests passed but the server could not be stopped cleanly,
// the result is a failure.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	ReportSkips()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop shared postgres: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
