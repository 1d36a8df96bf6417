package router

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawUpstream is an upstream that answers every request it reads with the
// bytes respond returns, written as they are: it lets a test send responses
// net/http would never produce. It counts the connections it accepted.
type rawUpstream struct {
	addr  string
	conns atomic.Int32
}

func startRaw(t *testing.T, respond func(req *http.Request) string) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{addr: ln.Addr().String()}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			u.conns.Add(1)
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					out := respond(req)
					if _, err := io.WriteString(nc, out); err != nil || strings.HasSuffix(out, "\x00close") {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return u
}

// rawClient is one client connection to the router that writes requests as
// raw bytes and reads responses with net/http's parser.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, base string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// do writes raw and reads one response to method, returning it with its body.
func (c *rawClient) do(raw, method string) (*http.Response, string) {
	c.t.Helper()
	if raw != "" {
		if _, err := io.WriteString(c.nc, raw); err != nil {
			c.t.Fatalf("write request: %v", err)
		}
	}
	return c.read(method)
}

func (c *rawClient) read(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read response body: %v", err)
	}
	return resp, string(b)
}

// closed reports whether the router closed the connection.
func (c *rawClient) closed() bool {
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF)
}

// fastFront returns a router server in front of addr.
func fastFront(t *testing.T, addr string, opts Options) (string, *Router) {
	t.Helper()
	r := New(opts)
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: addr}})
	return serve(t, r), r
}

func TestFastPathRelaysResponseFramings(t *testing.T) {
	cases := []struct {
		name, path, method string
		response           string // the upstream's bytes
		wantStatus         int
		wantBody           string
		wantTrailer        string // value of trailer X-Sum
		wantClose          bool   // the router must close the client connection after it
	}{
		{name: "content length", path: "/cl", response: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-App: a\r\n\r\nhello", wantStatus: 200, wantBody: "hello"},
		{name: "chunked with trailer", path: "/chunked", response: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n", wantStatus: 200, wantBody: "hello world", wantTrailer: "42"},
		{name: "until close", path: "/eof", response: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end\x00close", wantStatus: 200, wantBody: "until the end\x00close", wantClose: true},
		{name: "http/1.0 upstream", path: "/10", response: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", wantStatus: 200, wantBody: "ok"},
		{name: "head keeps length", path: "/head", method: "HEAD", response: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", wantStatus: 200},
		{name: "no content", path: "/204", response: "HTTP/1.1 204 No Content\r\nX-App: a\r\n\r\n", wantStatus: 204},
		{name: "not modified", path: "/304", response: "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", wantStatus: 304},
		{name: "early hints skipped", path: "/103", response: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", wantStatus: 200, wantBody: "ok"},
		{name: "malformed answer", path: "/bad", response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok\x00close", wantStatus: 502, wantBody: "bascule: the live release (blue) is not reachable\n"},
	}
	byPath := map[string]string{}
	for _, tc := range cases {
		byPath[tc.path] = tc.response
	}
	up := startRaw(t, func(req *http.Request) string { return byPath[req.URL.Path] })
	base, _ := fastFront(t, up.addr, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			c := dialRaw(t, base)
			resp, body := c.do(method+" "+tc.path+" HTTP/1.1\r\nHost: app.example\r\n\r\n", method)
			if resp.StatusCode != tc.wantStatus || body != tc.wantBody {
				t.Fatalf("%s %s = %d %q, want %d %q", method, tc.path, resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if resp.Header.Get("Date") == "" {
				t.Errorf("response has no Date header")
			}
			if got := resp.Trailer.Get("X-Sum"); got != tc.wantTrailer {
				t.Errorf("trailer X-Sum = %q, want %q", got, tc.wantTrailer)
			}
			if resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
				t.Errorf("response protocol = %s, want HTTP/1.1", resp.Proto)
			}
			if tc.wantClose {
				if !resp.Close || !c.closed() {
					t.Errorf("connection kept open after a body delimited by close")
				}
				return
			}
			// The connection carries another request.
			resp, body = c.do("GET /cl HTTP/1.1\r\nHost: app.example\r\n\r\n", "GET")
			if resp.StatusCode != 200 || body != "hello" {
				t.Errorf("next request on the connection = %d %q, want 200 hello", resp.StatusCode, body)
			}
		})
	}
}

func TestFastPathUpstreamCutMidBodyClosesClient(t *testing.T) {
	up := startRaw(t, func(*http.Request) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part\x00close"
	})
	base, _ := fastFront(t, up.addr, Options{})
	c := dialRaw(t, base)
	io.WriteString(c.nc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading a body the upstream cut: err = %v, want unexpected EOF (the client must see the cut)", err)
	}
}

func TestFastPathReusesUpstreamConnectionsOnlyWhenClean(t *testing.T) {
	var junk atomic.Bool
	up := startRaw(t, func(req *http.Request) string {
		if req.URL.Path == "/junk" {
			junk.Store(true)
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	base, _ := fastFront(t, up.addr, Options{})
	c := dialRaw(t, base)
	for range 5 {
		c.do("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
	}
	if n := up.conns.Load(); n != 1 {
		t.Fatalf("5 sequential requests used %d upstream connections, want 1", n)
	}
	c.do("GET /junk HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
	resp, body := c.do("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
	if body != "ok" || resp.StatusCode != 200 {
		t.Fatalf("after junk: %d %q", resp.StatusCode, body)
	}
	if n := up.conns.Load(); n != 2 {
		t.Errorf("upstream connections = %d, want 2: one that sent bytes past its response must not be reused", n)
	}
}

func TestFastPathPipelinedRequests(t *testing.T) {
	_, blue, _ := newPair(t, Options{}, echoAll, nil)
	base, _ := fastFront(t, blue.addr, Options{})
	c := dialRaw(t, base)
	io.WriteString(c.nc, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nHEAD /c HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"/a", "/b"} {
		_, body := c.read("GET")
		var s seen
		if err := jsonDecode(body, &s); err != nil || s.Path != want {
			t.Errorf("pipelined response = %q (%v), want the echo of %s", body, err, want)
		}
	}
	if resp, body := c.read("HEAD"); resp.StatusCode != 200 || body != "" {
		t.Errorf("pipelined HEAD = %d %q", resp.StatusCode, body)
	}
}

func TestFastPathRequestBodies(t *testing.T) {
	hash := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %s %v", n, hex.EncodeToString(h.Sum(nil)), r.TransferEncoding)
	})
	_, blue, _ := newPair(t, Options{}, hash, nil)
	base, _ := fastFront(t, blue.addr, Options{})
	for _, size := range []int{0, 1, 5000, 1 << 20} {
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		sum := sha256.Sum256(body)
		want := fmt.Sprintf("%d %s []", size, hex.EncodeToString(sum[:]))
		c := dialRaw(t, base)
		for i := range 2 { // twice on one connection: the body must be consumed exactly
			go func() {
				fmt.Fprintf(c.nc, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", size)
				c.nc.Write(body)
			}()
			resp, got := c.read("POST")
			if resp.StatusCode != 200 || got != want {
				t.Errorf("POST %d bytes (#%d) = %d %q, want %q", size, i, resp.StatusCode, got, want)
			}
		}
	}
	// A chunked request body goes through net/http, and arrives whole.
	c := dialRaw(t, base)
	resp, got := c.do("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "POST")
	sum := sha256.Sum256([]byte("abc"))
	if want := "3 " + hex.EncodeToString(sum[:]) + " [chunked]"; resp.StatusCode != 200 || got != want {
		t.Errorf("chunked POST = %d %q, want %q", resp.StatusCode, got, want)
	}
}

// TestFastPathHandsUnusualRequestsToNetHTTP sends requests the fast path
// does not parse itself; each must still be answered correctly, and the
// connection must keep working afterwards.
func TestFastPathHandsUnusualRequestsToNetHTTP(t *testing.T) {
	_, blue, _ := newPair(t, Options{}, echoAll, nil)
	base, _ := fastFront(t, blue.addr, Options{})
	big := strings.Repeat("x", 10<<10)
	cases := []struct{ name, raw, wantPath string }{
		{"http/1.0", "GET /ten HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", "/ten"},
		{"bare line feeds", "GET /lf HTTP/1.1\nHost: a\n\n", "/lf"},
		{"head over 8 KiB", "GET /big HTTP/1.1\r\nHost: a\r\nX-Big: " + big + "\r\n\r\n", "/big"},
		{"expect continue", "POST /exp HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", "/exp"},
		{"absolute form", "GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n", "/abs"},
		{"connection token", "GET /tok HTTP/1.1\r\nHost: a\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n", "/tok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, base)
			resp, body := c.do(tc.raw, "GET")
			var s seen
			if err := jsonDecode(body, &s); err != nil || resp.StatusCode != 200 || s.Path != tc.wantPath {
				t.Fatalf("%s: %d %q, want 200 echoing %s", tc.name, resp.StatusCode, body, tc.wantPath)
			}
			if resp.Close {
				return // HTTP/1.0 without keep-alive support may close
			}
			_, body = c.do("GET /after HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
			if err := jsonDecode(body, &s); err != nil || s.Path != "/after" {
				t.Errorf("next request after hand-off = %q", body)
			}
		})
	}
	t.Run("malformed is rejected by net/http", func(t *testing.T) {
		c := dialRaw(t, base)
		resp, _ := c.do("GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", "GET")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("malformed header = %d, want 400", resp.StatusCode)
		}
	})
}

func TestFastPathSlowHeadAndClientClose(t *testing.T) {
	_, blue, _ := newPair(t, Options{}, echoAll, nil)
	base, _ := fastFront(t, blue.addr, Options{})
	c := dialRaw(t, base)
	for _, b := range []byte("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n") {
		c.nc.Write([]byte{b}) // a head split in the worst way
	}
	_, body := c.read("GET")
	var s seen
	if err := jsonDecode(body, &s); err != nil || s.Path != "/slow" {
		t.Fatalf("byte-by-byte request = %q", body)
	}
	resp, _ := c.do("GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET")
	if !resp.Close || !c.closed() {
		t.Errorf("Connection: close from the client: response Close=%v, want the connection closed", resp.Close)
	}
}

func TestFastPathShutdownFinishesRequestsInFlight(t *testing.T) {
	var started atomic.Int32
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	_, blue, _ := newPair(t, Options{}, slow, nil)
	r := New(Options{})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: blue.addr}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer("", r)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	idle := dialRaw(t, base)
	idle.do("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", "GET") // quick; then idle
	busy := dialRaw(t, base)
	io.WriteString(busy.nc, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	waitFor(t, "the slow request at the upstream", 5*time.Second, func() bool { return started.Load() == 1 })
	// A client that has just connected and not yet sent its request is
	// served too, as net/http serves new connections during Shutdown.
	late := dialRaw(t, base)
	waitFor(t, "three connections accepted", 5*time.Second, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.conns) == 3
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(ctx) }()
	waitFor(t, "shutdown to begin", 5*time.Second, srv.isClosing)
	io.WriteString(late.nc, "GET /late HTTP/1.1\r\nHost: a\r\n\r\n")
	for name, c := range map[string]*rawClient{"in flight": busy, "sent after shutdown began, on a new connection": late} {
		resp, body := c.read("GET")
		if resp.StatusCode != 200 || body != "done" {
			t.Errorf("request %s = %d %q, want 200 done", name, resp.StatusCode, body)
		}
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if !busy.closed() || !idle.closed() || !late.closed() {
		t.Errorf("connections left open after Shutdown returned")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Errorf("listener still accepting after Shutdown")
	}
}

// echoAll answers every path with what the upstream received, as JSON.
var echoAll = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(seen{Host: r.Host, Proto: r.Proto, Header: r.Header, Path: r.URL.Path})
})

func jsonDecode(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestFastPathClientHangUpCutsUpstream: a client that leaves while its
// request waits at the upstream must free the upstream (and the in-flight
// count Drain waits on) rather than leave it working for nobody.
func TestFastPathClientHangUpCutsUpstream(t *testing.T) {
	upstreamSawCancel := make(chan struct{})
	wait := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			close(upstreamSawCancel)
		case <-time.After(20 * time.Second):
		}
	})
	_, blue, _ := newPair(t, Options{}, wait, nil)
	var statuses []int
	var mu sync.Mutex
	base, r := fastFront(t, blue.addr, Options{Observe: func(_ Color, status int, _ time.Duration) {
		mu.Lock()
		statuses = append(statuses, status)
		mu.Unlock()
	}})
	c := dialRaw(t, base)
	io.WriteString(c.nc, "GET /long-poll HTTP/1.1\r\nHost: a\r\n\r\n")
	waitFor(t, "the request in flight", 5*time.Second, func() bool { return r.InFlight(blue.addr) == 1 })
	c.nc.Close()
	select {
	case <-upstreamSawCancel:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream kept working for a client that hung up")
	}
	waitFor(t, "in-flight back to 0", 5*time.Second, func() bool { return r.InFlight(blue.addr) == 0 })
	waitFor(t, "Observe called", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(statuses) == 1 })
	if statuses[0] != statusClientGone {
		t.Errorf("Observe status = %d, want %d for a client that hung up", statuses[0], statusClientGone)
	}
}

// TestFastPathPipelinedDuringSlowResponse: a request sent while the
// previous one is still at the upstream (long enough for the client watch
// to read from the connection) is answered next, intact.
func TestFastPathPipelinedDuringSlowResponse(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(400 * time.Millisecond)
		}
		io.WriteString(w, r.URL.Path)
	})
	_, blue, _ := newPair(t, Options{}, slow, nil)
	base, _ := fastFront(t, blue.addr, Options{})
	c := dialRaw(t, base)
	io.WriteString(c.nc, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(200 * time.Millisecond) // not synchronisation: the watch must be reading when the next request arrives
	io.WriteString(c.nc, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"/slow", "/next"} {
		if resp, body := c.read("GET"); resp.StatusCode != 200 || body != want {
			t.Errorf("response = %d %q, want 200 %q", resp.StatusCode, body, want)
		}
	}
}

func TestFastPathToleratesCRLFAfterPost(t *testing.T) {
	_, blue, _ := newPair(t, Options{}, echoAll, nil)
	base, _ := fastFront(t, blue.addr, Options{})
	c := dialRaw(t, base)
	io.WriteString(c.nc, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok\r\nGET /g HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"/p", "/g"} {
		var s seen
		if resp, body := c.read("GET"); resp.StatusCode != 200 || jsonDecode(body, &s) != nil || s.Path != want {
			t.Errorf("response = %d %q, want the echo of %s", resp.StatusCode, body, want)
		}
	}
}
