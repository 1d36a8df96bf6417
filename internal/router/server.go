package router

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server serves a Router on listeners. Plain HTTP/1.1 requests (the bulk of
// production traffic) take bascule's own fast path: one goroutine per client
// connection that parses the request head itself and relays it to a pooled
// upstream connection with one write each way. Anything else — upgrades
// (WebSocket), HTTP/1.0, h2c, chunked or Expect request bodies, preview
// links, heads too large or unusual to parse strictly — is handed, with the
// bytes already read, to a net/http server running the same Router, and
// stays there for the rest of its connection. So the fast path only has to
// be right about the subset it accepts; see h1parse.go for that subset.
//
// Slow clients cannot hold a connection before sending a complete head
// (ReadHeaderTimeout 10s), idle keep-alives are reclaimed (IdleTimeout
// 120s), and there is deliberately no overall read or write timeout, so
// streams, SSE, uploads and WebSockets are not cut.
type Server struct {
	// Addr is the address ListenAndServe listens on.
	Addr string

	handler http.Handler
	router  *Router // nil when handler is not a Router fit for the fast path
	std     *http.Server
	handoff *connQueue

	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	date              dateCache

	closing atomic.Bool // read without mu on every request; set under mu

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*fastConn]struct{}
	stdOnce   sync.Once

	readers sync.Pool // *bufio.Reader of clientReadBuffer bytes
	writers sync.Pool // *bufio.Writer of clientWriteBuffer bytes
}

// NewServer returns a Server for h on addr. When h is a *Router using its
// own transport (no Options.Transport, no Options.H2C), plain requests take
// the fast path; otherwise every connection is served by net/http. The
// net/http side accepts HTTP/2 with prior knowledge (h2c), so gRPC clients
// can reach h2c upstreams through it.
func NewServer(addr string, h http.Handler) *Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	s := &Server{
		Addr:              addr,
		handler:           h,
		readHeaderTimeout: 10 * time.Second,
		idleTimeout:       120 * time.Second,
		listeners:         map[net.Listener]struct{}{},
		conns:             map[*fastConn]struct{}{},
	}
	s.std = &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: s.readHeaderTimeout,
		IdleTimeout:       s.idleTimeout,
		Protocols:         &p,
	}
	if r, ok := h.(*Router); ok && r.ownTransport && !r.allH2C {
		s.router = r
	}
	return s
}

// ListenAndServe listens on s.Addr and serves. It returns
// http.ErrServerClosed after Shutdown or Close.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown or Close, and then returns
// http.ErrServerClosed; other accept errors end it with that error. ln is
// closed when Serve returns.
func (s *Server) Serve(ln net.Listener) error {
	if s.router == nil {
		return s.std.Serve(ln)
	}
	if !s.track(ln) {
		ln.Close()
		return http.ErrServerClosed
	}
	defer s.untrack(ln)
	s.stdOnce.Do(func() {
		s.handoff = newConnQueue(ln.Addr())
		go func() {
			_ = s.std.Serve(s.handoff) // ends with ErrServerClosed at Shutdown or Close
		}()
	})
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return http.ErrServerClosed
			}
			if !retryableAccept(err) {
				return err
			}
			// Out of file descriptors and the like: wait a little, as
			// net/http does, instead of spinning or giving up.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := s.newConn(nc)
		if c == nil {
			nc.Close()
			continue
		}
		go c.serve()
	}
}

// retryableAccept reports whether an accept error is worth retrying.
func retryableAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM)
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
	ln.Close()
}

func (s *Server) isClosing() bool { return s.closing.Load() }

// Shutdown stops accepting, closes idle connections, lets every request in
// flight finish (its connection then closes) and returns once none is left,
// or with ctx's error when ctx ends first. Upgraded connections are not
// waited for, as with http.Server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginClose()
	s.closeIdle() // at once, not after net/http's connections are done
	stdErr := s.std.Shutdown(ctx)
	// Poll as http.Server.Shutdown does: a connection that was busy when
	// shutdown began closes itself after its request; closeIdle catches one
	// that went idle in between.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() == 0 {
			return stdErr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.beginClose()
	err := s.std.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	return err
}

// beginClose marks the server closing and closes its listeners.
func (s *Server) beginClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing.Store(true)
	for ln := range s.listeners {
		ln.Close()
	}
}

// newConnGrace is how long Shutdown waits for the first request of a
// connection accepted just before it (net/http's figure).
const newConnGrace = 5 * time.Second

// closeIdle closes the fast-path connections waiting for a request and
// returns how many connections remain.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for c := range s.conns {
		// A connection that has not sent its first request yet may be a
		// client that just connected to send one: like net/http, give it
		// newConnGrace before treating it as idle.
		if c.idle.Load() && (c.served.Load() || now.Sub(c.accepted) > newConnGrace) {
			// Unblocks the wait for the next request; a request that
			// arrived just before is still served, then the conn closes.
			c.nc.SetReadDeadline(aLongTimeAgo)
		}
	}
	return len(s.conns)
}

// setIdle marks c as waiting for its next request (idle) or serving one;
// false when the server is closing and c should close instead. It takes no
// lock, being on every request's path: c stores idle before it loads
// closing, and Shutdown stores closing before closeIdle loads idle, so at
// least one of them sees the other and an idle connection is never missed.
func (s *Server) setIdle(c *fastConn, idle bool) bool {
	c.idle.Store(idle)
	if !idle {
		c.served.Store(true)
	}
	// A new connection still gets its first request served (closeIdle
	// gives it newConnGrace to send it).
	return !s.closing.Load() || !c.served.Load()
}

// forget drops a connection that has ended or been handed to net/http.
func (s *Server) forget(c *fastConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// connQueue is the net.Listener through which the fast path hands
// connections to the net/http server.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Accept returns the next handed-over connection.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept fail and push refuse from now on.
func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

// Addr is the address of the listener the connections came from.
func (q *connQueue) Addr() net.Addr { return q.addr }

// push hands c to the net/http server; false when it no longer accepts.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

// prefixConn is a connection whose first reads return bytes the fast path
// had already read from it.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// reader returns a pooled read buffer for nc.
func (s *Server) reader(nc io.Reader) *bufio.Reader {
	if br, ok := s.readers.Get().(*bufio.Reader); ok {
		br.Reset(nc)
		return br
	}
	return bufio.NewReaderSize(nc, clientReadBuffer)
}

// writer returns a pooled write buffer for nc.
func (s *Server) writer(nc io.Writer) *bufio.Writer {
	if bw, ok := s.writers.Get().(*bufio.Writer); ok {
		bw.Reset(nc)
		return bw
	}
	return bufio.NewWriterSize(nc, clientWriteBuffer)
}

// release returns a connection's buffers to the pools.
func (s *Server) release(br *bufio.Reader, bw *bufio.Writer) {
	br.Reset(nil)
	bw.Reset(nil)
	s.readers.Put(br)
	s.writers.Put(bw)
}

// dateCache formats the Date header line once a second rather than once a
// response.
type dateCache struct {
	v atomic.Pointer[dateLine]
}

type dateLine struct {
	sec  int64
	line []byte
}

// line returns "Date: <now in RFC 9110 format>\r\n".
func (d *dateCache) line() []byte {
	now := time.Now()
	if v := d.v.Load(); v != nil && v.sec == now.Unix() {
		return v.line
	}
	b := make([]byte, 0, 40)
	b = append(b, "Date: "...)
	b = now.UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	d.v.Store(&dateLine{sec: now.Unix(), line: b})
	return b
}
