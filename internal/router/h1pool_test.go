package router

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// front serves a router and returns its base URL.
type front func(*testing.T, http.Handler) string

// bothFronts runs test through the router's fast path (NewServer) and
// through net/http alone, which serves the connections the fast path hands
// over: the two must behave alike.
func bothFronts(t *testing.T, test func(*testing.T, front)) {
	t.Run("fast", func(t *testing.T) { test(t, serve) })
	t.Run("net-http", func(t *testing.T) { test(t, serveNetHTTP) })
}

// serveNetHTTP serves h with a plain httptest server.
func serveNetHTTP(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// routerTo returns a router server in front of up (a real upstream).
func routerTo(t *testing.T, up *httptest.Server, serve front) struct{ URL string } {
	t.Helper()
	r := New(Options{})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: up.Listener.Addr().String()}})
	return struct{ URL string }{serve(t, r)}
}

// TestH1PoolSurvivesUpstreamClosingIdleConnections: the app closes every
// keep-alive connection after one request (as apps with a short idle
// timeout do under light load). No request through the router may fail.
func TestH1PoolSurvivesUpstreamClosingIdleConnections(t *testing.T) {
	bothFronts(t, testH1PoolSurvivesUpstreamClosingIdleConnections)
}

func testH1PoolSurvivesUpstreamClosingIdleConnections(t *testing.T, serve front) {
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Method, body)
	}))
	up.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
		if s == http.StateIdle {
			c.Close() // close right after answering, while bascule pools it
		}
	}
	up.Start()
	defer up.Close()
	front := routerTo(t, up, serve)
	for i := 0; i < 200; i++ {
		method, body := http.MethodGet, ""
		if i%2 == 1 {
			method, body = http.MethodPost, "order-"+fmt.Sprint(i)
		}
		req, _ := http.NewRequest(method, front.URL+"/", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != method+" "+body {
			t.Fatalf("request %d (%s) = %d %q, want 200 %q: a stale pooled connection leaked a failure", i, method, resp.StatusCode, got, method+" "+body)
		}
	}
	if conns.Load() < 100 {
		t.Errorf("upstream saw %d connections; the test did not exercise closed idle connections", conns.Load())
	}
}

func TestH1PoolReusesConnections(t *testing.T) { bothFronts(t, testH1PoolReusesConnections) }

func testH1PoolReusesConnections(t *testing.T, serve front) {
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	up.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	front := routerTo(t, up, serve)
	for i := 0; i < 50; i++ {
		resp, err := http.Get(front.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("50 sequential requests opened %d upstream connections, want 1 (kept alive)", n)
	}
}

// TestH1PoolChunkedBodiesAndStreams: a request body of unknown length goes
// up chunked, and a streamed response comes back as it is produced.
func TestH1PoolChunkedBodiesAndStreams(t *testing.T) {
	bothFronts(t, testH1PoolChunkedBodiesAndStreams)
}

func testH1PoolChunkedBodiesAndStreams(t *testing.T, serve front) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %d bytes, te=%v\n", len(body), r.TransferEncoding)
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "end\n")
	}))
	defer up.Close()
	front := routerTo(t, up, serve)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(strings.Repeat("x", 100_000)))
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, front.URL+"/", pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "got 100000 bytes, te=[chunked]\n" {
		t.Fatalf("first line = %q, %v; want it before the upstream finished", line, err)
	}
	close(release)
	if rest, _ := io.ReadAll(br); string(rest) != "end\n" {
		t.Errorf("rest = %q", rest)
	}
}

// TestH1PoolClientGoneClosesUpstream: a client that leaves mid-stream must
// not leave the upstream connection pooled half-read.
func TestH1PoolClientGoneClosesUpstream(t *testing.T) {
	bothFronts(t, testH1PoolClientGoneClosesUpstream)
}

func testH1PoolClientGoneClosesUpstream(t *testing.T, serve front) {
	upstreamDone := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			defer close(upstreamDone)
			for {
				if _, err := io.WriteString(w, "tick\n"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
		io.WriteString(w, "plain")
	}))
	defer up.Close()
	front := routerTo(t, up, serve)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL+"/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(resp.Body).ReadString('\n')
	cancel()
	resp.Body.Close()
	select {
	case <-upstreamDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream stream was not ended after its client left")
	}
	resp, err = http.Get(front.URL + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain" {
		t.Errorf("next request = %q, want plain (no half-read connection reused)", b)
	}
}

func TestH1PoolHeadAndConnectionClose(t *testing.T) { bothFronts(t, testH1PoolHeadAndConnectionClose) }

func testH1PoolHeadAndConnectionClose(t *testing.T, serve front) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Length", "5")
		if r.Method != http.MethodHead {
			io.WriteString(w, "hello")
		}
	}))
	defer up.Close()
	front := routerTo(t, up, serve)
	for _, m := range []string{http.MethodHead, http.MethodGet, http.MethodHead, http.MethodGet} {
		req, _ := http.NewRequest(m, front.URL+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "hello"
		if m == http.MethodHead {
			want = ""
		}
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("%s = %d %q, want 200 %q", m, resp.StatusCode, b, want)
		}
	}
}

// TestWasResetSeesAResetAfterTheEndOfStream: the app closed a pooled
// connection and its end of stream reached bascule before the next request
// was written (the usual order under load): the app's kernel answers the
// request's bytes with a reset, which Linux records as EPIPE on a half-
// closed socket, not ECONNRESET. Such a request was never read and must be
// sent again; one the app read before it hung up must not.
func TestWasResetSeesAResetAfterTheEndOfStream(t *testing.T) {
	for _, c := range []struct {
		name      string
		appReads  bool // the app reads the request before it closes
		wantReset bool
	}{
		{"closed before the request", false, true},
		{"read, then closed", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			app, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			req := "POST /checkout HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\n\r\norder"
			if c.appReads {
				if _, err := io.WriteString(nc, req); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(app, make([]byte, len(req))); err != nil {
					t.Fatal(err)
				}
			}
			app.Close()
			// bascule has the end of stream before it writes (or, when the
			// app read the request, as its only answer).
			pc := &h1Conn{nc: nc, rw: newRawIO(nc), reused: true}
			if _, err := pc.rw.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("read after the app closed = %v, want EOF", err)
			}
			if !c.appReads {
				if _, err := io.WriteString(nc, req); err != nil {
					t.Fatalf("write on the half-closed connection = %v, want it accepted by the kernel", err)
				}
			}
			if got := pc.wasReset(); got != c.wantReset {
				t.Errorf("wasReset = %v, want %v", got, c.wantReset)
			}
		})
	}
}
