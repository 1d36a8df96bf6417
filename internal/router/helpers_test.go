package router

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// upstream is a real HTTP server standing in for one color's release.
type testUpstream struct {
	*httptest.Server
	color Color
	addr  string
}

// seen is what the echo upstream reports about the request it received.
type seen struct {
	Color  Color       `json:"color"`
	Host   string      `json:"host"`
	Proto  string      `json:"proto"`
	Header http.Header `json:"header"`
	Path   string      `json:"path"`
}

// startUpstream starts an upstream that stamps every answer with its color
// (X-Color header) and, on /echo, returns what it received as JSON. extra,
// if set, serves every other path.
func startUpstream(t *testing.T, c Color, extra http.Handler) *testUpstream {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen{Color: c, Host: r.Host, Proto: r.Proto, Header: r.Header})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if extra != nil {
			extra.ServeHTTP(w, r)
			return
		}
		_, _ = io.WriteString(w, string(c))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Color", string(c))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &testUpstream{Server: srv, color: c, addr: srv.Listener.Addr().String()}
}

// newPair returns a router over fresh blue and green upstreams, blue live.
func newPair(t *testing.T, opts Options, blueH, greenH http.Handler) (*Router, *testUpstream, *testUpstream) {
	t.Helper()
	blue := startUpstream(t, Blue, blueH)
	green := startUpstream(t, Green, greenH)
	r := New(opts)
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: blue.addr, Green: green.addr}})
	return r, blue, green
}

// serve runs h behind NewServer on a loopback port and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := NewServer(ln.Addr().String(), h)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve router: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// newClient returns a client with its own connection pool.
func newClient(keepAlive bool) *http.Client {
	return &http.Client{
		Transport: &http.Transport{DisableKeepAlives: !keepAlive, Proxy: nil},
		Timeout:   10 * time.Second,
	}
}

// get fetches url and returns the status, the X-Color header and the body.
func get(t *testing.T, c *http.Client, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL, err)
	}
	return resp.StatusCode, resp.Header.Get("X-Color"), string(body)
}

// mustRequest builds a request or fails the test.
func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	return req
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// drainWaiters reports how many Drain calls wait on addr.
func drainWaiters(r *Router, addr string) int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if u := r.upstreams[addr]; u != nil {
		return u.waiters.Load()
	}
	return 0
}
