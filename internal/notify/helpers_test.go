package notify_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

const secret = "s3cret-0123456789abcdef"

// received is one request a receiver got.
type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is a real HTTP webhook receiver. respond picks the status of
// the n-th request (from 1); nil answers 204.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []received
	respond func(n int) int
}

func newReceiver(t *testing.T, respond func(n int) int) *receiver {
	t.Helper()
	r := &receiver{respond: respond}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{at: time.Now(), header: req.Header.Clone(), body: body})
		n := len(r.reqs)
		r.mu.Unlock()
		status := http.StatusNoContent
		if r.respond != nil {
			status = r.respond(n)
		}
		if status >= 400 {
			http.Error(w, "boom\nsecond line", status)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// syncBuffer collects a logger's output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a Notifier on st until the test ends, with fast polling and
// backoff unless opts says otherwise. It returns the Notifier and its log.
func start(t *testing.T, st *sqlite.DB, opts notify.Options) (*notify.Notifier, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts.Store, opts.App = st, "shop"
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Poll == 0 {
		opts.Poll = 20 * time.Millisecond
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 50 * time.Millisecond
	}
	n := notify.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("Notifier.Run did not return within 10s of its context ending")
		}
	})
	return n, logs
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// deploy records a deployment of version, as the pipeline would: the
// store writes its "started" event with it.
func deploy(t *testing.T, st store.Store, version, actor, reason string) *store.Deployment {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Release(ctx, version); err != nil {
		if err := st.CreateRelease(ctx, store.Release{Version: version, Digest: "sha256:" + version, Format: "file", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	d := &store.Deployment{App: "shop", Version: version, Color: "green", State: store.StateQueued, Reason: reason,
		RequestedBy: actor, CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}
