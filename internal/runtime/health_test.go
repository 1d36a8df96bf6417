package runtime_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

// scripted is an app whose health answers follow a script, then stay at
// the last status.
type scripted struct {
	mu       sync.Mutex
	statuses []int
	paths    []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status := s.statuses[min(len(s.paths), len(s.statuses)-1)]
	s.paths = append(s.paths, r.URL.Path)
	if status >= 300 && status < 400 {
		w.Header().Set("Location", "/login")
	}
	w.WriteHeader(status)
}

func (s *scripted) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func serveScript(t *testing.T, statuses ...int) (*scripted, string) {
	t.Helper()
	s := &scripted{statuses: statuses}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, strings.TrimPrefix(srv.URL, "http://")
}

var fast = runtime.HealthCheck{Path: "/healthz", Interval: 5 * time.Millisecond, Timeout: time.Second}

func TestProbe(t *testing.T) {
	tests := []struct {
		status int
		want   string // "" for healthy
	}{
		{200, ""},
		{204, ""},
		{302, ""}, // the app answers; the redirect is not followed
		{404, "health check GET /healthz: 404 Not Found"},
		{500, "health check GET /healthz: 500 Internal Server Error"},
	}
	for _, tt := range tests {
		s, addr := serveScript(t, tt.status, 500)
		err := runtime.Probe(context.Background(), addr, fast)
		if (tt.want == "" && err != nil) || (tt.want != "" && (err == nil || err.Error() != tt.want)) {
			t.Errorf("Probe(app answering %d) = %v, want %q", tt.status, err, tt.want)
		}
		if got := s.requests(); len(got) != 1 {
			t.Errorf("Probe(app answering %d) sent %q, want one request", tt.status, got)
		}
	}
}

func TestProbeNobodyListening(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	err := runtime.Probe(context.Background(), addr, fast)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Probe(closed port) = %v, want connection refused", err)
	}
}

func TestProbeDefaultPath(t *testing.T) {
	s, addr := serveScript(t, 200)
	if err := runtime.Probe(context.Background(), addr, runtime.HealthCheck{}); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if got := s.requests(); len(got) != 1 || got[0] != "/" {
		t.Errorf("zero HealthCheck requested %q, want [/]", got)
	}
}

func TestWaitHealthyNeedsConsecutiveAnswers(t *testing.T) {
	// ok, fail, ok, ok, ok: the failure resets the count, so a threshold
	// of 3 is met at the fifth answer, not the fourth.
	s, addr := serveScript(t, 200, 503, 200)
	hc := fast
	hc.HealthyThreshold = 3
	if err := runtime.WaitHealthy(context.Background(), addr, hc, nil); err != nil {
		t.Fatalf("WaitHealthy: %v", err)
	}
	if got := len(s.requests()); got != 5 {
		t.Errorf("WaitHealthy(threshold 3) healthy after %d checks, want 5", got)
	}
}

func TestWaitHealthyDeadlineNamesStatus(t *testing.T) {
	_, addr := serveScript(t, 500)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := runtime.WaitHealthy(ctx, addr, fast, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitHealthy(always 500) = %v, want the deadline", err)
	}
	if want := "health check GET /healthz: 500 Internal Server Error after "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("WaitHealthy(always 500) = %q, want it to start with %q", err, want)
	}
}

func TestWaitHealthyReturnsWhenProcessExits(t *testing.T) {
	s, addr := serveScript(t, 500)
	exited := make(chan struct{})
	close(exited)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := runtime.WaitHealthy(ctx, addr, fast, exited)
	if !errors.Is(err, runtime.ErrExited) || ctx.Err() != nil {
		t.Fatalf("WaitHealthy(exited) = %v, want an early ErrExited", err)
	}
	if got := s.requests(); len(got) != 0 {
		t.Errorf("WaitHealthy(exited) sent %q, want no check of a dead process", got)
	}
}

func TestExitError(t *testing.T) {
	tests := []struct {
		err  runtime.ExitError
		want string
	}{
		{runtime.ExitError{Code: 1, LastLog: "fatal: no db"}, "process exited with status 1: fatal: no db"},
		{runtime.ExitError{Code: -1, Signal: "killed"}, "process killed by signal killed"},
		{runtime.ExitError{Code: -1}, "process exited (status unknown)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("ExitError%+v = %q, want %q", tt.err, got, tt.want)
		}
		if !errors.Is(&tt.err, runtime.ErrExited) {
			t.Errorf("errors.Is(ExitError%+v, ErrExited) = false", tt.err)
		}
	}
}

// BenchmarkProbe measures one health check against a local app, new
// connection included, as Probe makes one per call.
func BenchmarkProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	b.ReportAllocs()
	for b.Loop() {
		if err := runtime.Probe(context.Background(), addr, fast); err != nil {
			b.Fatal(err)
		}
	}
}
