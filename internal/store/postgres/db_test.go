package postgres_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/postgres"
	"github.com/bascule/bascule/internal/store/storetest"
	"github.com/jackc/pgx/v5"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// open opens the store at url, closed in t.Cleanup.
func open(t testing.TB, url string) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// connect opens a plain connection, for checks below the store's API.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pg.NewDatabase(t)) })
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.NewDatabase(t)
	db := open(t, url)
	if err := db.CreateRelease(ctx, store.Release{Version: "v1", Digest: "sha256:x"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, url)
	if _, err := db.Release(ctx, "v1"); err != nil {
		t.Errorf("Release(v1) after reopen (schema already applied) = %v", err)
	}
}

func TestTimesComeBackInUTC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pg.NewDatabase(t))
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2026, 11, 29, 10, 0, 0, 123456000, paris)
	if err := db.CreateRelease(ctx, store.Release{Version: "v1", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Release(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, at.UTC())
	}
}

func TestOpenUnreachableFails(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on 127.0.0.1: nothing listens there, the connection is refused.
	db, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/bascule?sslmode=disable&connect_timeout=5")
	if err == nil {
		db.Close()
		t.Fatal("Open(unreachable server) = nil error, want the connection failure")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open(unreachable server) = %v, want a prompt failure, not a timeout", err)
	}
}
