package flagclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
)

// testAPIKey is the key the test servers accept.
const testAPIKey = "eval-key-1"

// backend is what the tests need of a flag server: it serves the snapshot
// and stream endpoints and lets the test publish a new snapshot.
// contractServer is one; the real API handler, wrapped to publish through the
// store, can replace it in newHarness without touching the tests.
type backend interface {
	http.Handler
	publish(s *feature.Snapshot)
	// close ends open streams, so that the test server can shut down.
	close()
}

// contractServer implements exactly the wire contract the SDK is built
// against, until the real handlers land:
//
//	GET /api/v1/flags/snapshot  200 feature.Wire + ETag "v<N>", or 304 on If-None-Match
//	GET /api/v1/flags/stream    SSE "snapshot" events, resumable with Last-Event-ID
//
// Both answer 401 {"error": {...}} without "Authorization: Bearer testAPIKey".
type contractServer struct {
	cur  atomic.Pointer[feature.Snapshot]
	mux  *http.ServeMux
	ping time.Duration

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every publish
	done    chan struct{}
}

func newContractServer(s *feature.Snapshot) *contractServer {
	cs := &contractServer{changed: make(chan struct{}), done: make(chan struct{}), ping: 15 * time.Second}
	cs.cur.Store(s)
	cs.mux = http.NewServeMux()
	cs.mux.HandleFunc("GET /api/v1/flags/snapshot", cs.snapshot)
	cs.mux.HandleFunc("GET /api/v1/flags/stream", cs.stream)
	return cs
}

func (cs *contractServer) publish(s *feature.Snapshot) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.cur.Store(s)
	close(cs.changed)
	cs.changed = make(chan struct{})
}

func (cs *contractServer) close() { close(cs.done) }

// current returns the snapshot and the channel that its replacement closes,
// read together so that no publish can slip between them unseen.
func (cs *contractServer) current() (*feature.Snapshot, <-chan struct{}) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.cur.Load(), cs.changed
}

func (cs *contractServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testAPIKey {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"invalid API key"}}`)
		return
	}
	cs.mux.ServeHTTP(w, r)
}

func (cs *contractServer) snapshot(w http.ResponseWriter, r *http.Request) {
	s, _ := cs.current()
	tag := `"v` + strconv.FormatInt(s.Version, 10) + `"`
	w.Header().Set("ETag", tag)
	if r.Header.Get("If-None-Match") == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, err := json.Marshal(s)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (cs *contractServer) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	sent, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	ping := time.NewTicker(cs.ping)
	defer ping.Stop()
	for {
		s, changed := cs.current()
		if s.Version != sent {
			body, _ := json.Marshal(s)
			fmt.Fprintf(w, "event: snapshot\nid: %d\ndata: %s\n\n", s.Version, body)
			rc.Flush()
			sent = s.Version
		}
		select {
		case <-changed:
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			rc.Flush()
		case <-r.Context().Done():
			return
		case <-cs.done:
			return
		}
	}
}

// harness is a test server: a backend behind a recorder that notes what
// clients send and can break things on demand.
type harness struct {
	t       testing.TB
	backend backend
	rec     *recorder
	srv     *httptest.Server
	url     string
}

// newHarness starts a contract server holding s on 127.0.0.1.
func newHarness(t testing.TB, s *feature.Snapshot) *harness {
	t.Helper()
	h := unstartedHarness(t, s)
	h.start("127.0.0.1:0")
	return h
}

// unstartedHarness prepares a server for an address that start will open.
func unstartedHarness(t testing.TB, s *feature.Snapshot) *harness {
	b := newContractServer(s)
	return &harness{t: t, backend: b, rec: &recorder{next: b}}
}

func (h *harness) start(addr string) {
	h.t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		h.t.Fatalf("listen on %s: %v", addr, err)
	}
	h.srv = httptest.NewUnstartedServer(h.rec)
	h.srv.Listener.Close()
	h.srv.Listener = l
	h.srv.Start()
	h.url = h.srv.URL
	h.t.Cleanup(func() {
		h.backend.close()
		h.srv.Close()
	})
}

// publish makes s the server's current snapshot.
func (h *harness) publish(s *feature.Snapshot) { h.backend.publish(s) }

// freeAddr returns a loopback address nothing listens on, for a server that
// is down now and starts later.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// recorder wraps a backend: it records the Last-Event-ID of every stream
// request and the status of every snapshot request, can refuse the stream
// with 404 (a server without streaming), and can cut open streams.
type recorder struct {
	next http.Handler

	mu             sync.Mutex
	noStream       bool
	lastEventIDs   []string
	snapshotStatus []int
	cancels        []context.CancelFunc
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v1/flags/stream" {
		rc.serveStream(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	rc.next.ServeHTTP(sw, r)
	if r.URL.Path == "/api/v1/flags/snapshot" {
		rc.mu.Lock()
		rc.snapshotStatus = append(rc.snapshotStatus, sw.status)
		rc.mu.Unlock()
	}
}

func (rc *recorder) serveStream(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rc.mu.Lock()
	noStream := rc.noStream
	if !noStream {
		rc.lastEventIDs = append(rc.lastEventIDs, r.Header.Get("Last-Event-ID"))
		rc.cancels = append(rc.cancels, cancel)
	}
	rc.mu.Unlock()
	if noStream {
		http.NotFound(w, r)
		return
	}
	rc.next.ServeHTTP(w, r.WithContext(ctx))
}

// dropStreams ends every open stream from the server side.
func (rc *recorder) dropStreams() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, cancel := range rc.cancels {
		cancel()
	}
	rc.cancels = nil
}

func (rc *recorder) setNoStream(v bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.noStream = v
}

func (rc *recorder) streamIDs() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.lastEventIDs...)
}

func (rc *recorder) snapshotStatuses() []int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]int(nil), rc.snapshotStatus...)
}

// statusWriter notes the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer's Flush.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
