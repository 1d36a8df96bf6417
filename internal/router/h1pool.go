package router

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// h1Pool is a minimal HTTP/1.1 client for the proxy's hot path: one
// upstream address, a stack of idle keep-alive connections, and each request
// written and its response read on the calling goroutine. http.Transport
// hands every request to two goroutines per connection (its read and write
// loops) and back through channels; when the router and the app share one
// core, that hand-off costs more than the proxying itself. Upgrades, gRPC
// and "Expect: 100-continue" keep using http.Transport.
type h1Pool struct {
	addr        string
	dialer      net.Dialer
	maxIdle     int
	idleTimeout time.Duration

	mu     sync.Mutex
	idle   []*h1Conn
	closed bool
}

func newH1Pool(addr string) *h1Pool {
	return &h1Pool{addr: addr, dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle: 1024, idleTimeout: 60 * time.Second}
}

type h1Conn struct {
	reused   bool  // served a request before: it may have gone stale
	nread    int64 // bytes received on the connection
	sent     int64 // nread when the current request was sent
	nc       net.Conn
	rw       io.ReadWriter // nc's reads and writes, raw where possible (newRawIO)
	br       *bufio.Reader
	bw       *bufio.Writer
	lastUsed time.Time
}

// errStale marks a pooled connection the upstream closed while it was idle:
// nothing was sent, so any request may be retried on a new one.
var errStale = errors.New("stale keep-alive connection")

// RoundTrip sends req and returns the response whose body streams from the
// connection; the connection goes back to the pool once the body is read to
// its end and closed.
func (p *h1Pool) RoundTrip(req *http.Request) (*http.Response, error) {
	replay, err := replayable(req)
	if err != nil {
		return nil, err
	}
	for {
		pc, err := p.get(req.Context(), !replayableMethod(req.Method, req.Header))
		if err != nil {
			return nil, closeBody(req, err)
		}
		if replay != nil {
			req.Body = io.NopCloser(bytes.NewReader(replay))
		}
		resp, err := p.send(pc, req, replay != nil)
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return nil, closeBody(req, err)
		}
		return resp, nil
	}
}

// closeBody closes req's body after a failed round trip and returns err.
// A RoundTripper must, and it matters here: net/http's server sees a body
// closed before its end and closes the client connection after the error
// answer, instead of first waiting to read what is left of the body.
func closeBody(req *http.Request, err error) error {
	if req.Body != nil {
		req.Body.Close()
	}
	return err
}

// maxReplay bounds the request bodies kept in memory so that a request can
// be sent again on a new connection when its pooled one turns out stale.
const maxReplay = 64 << 10

// replayable reads a small request body of known length into memory and
// returns it; nil for no body or one too large (or of unknown length) to
// keep, which then streams and is never retried.
func replayable(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 || req.ContentLength > maxReplay {
		return nil, nil
	}
	b := make([]byte, req.ContentLength)
	_, err := io.ReadFull(req.Body, b)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

// get pops an idle connection that is still open and clean, or dials a
// new one. A pooled connection is checked before reuse (alive) unless it
// was returned within checkIdleAfter: an app that wrote bytes after a
// response, or answered HEAD, 204 or 304 with a body, must not have them
// read as the answer to the next request, which may be another client's.
// The check is one non-blocking system call. verify checks every
// connection, for a request that is not safe to repeat: one that finds its
// connection closed by the app can be sent again only if the app cannot
// have read it (retryable), and the check finds most such connections
// before anything is sent.
func (p *h1Pool) get(ctx context.Context, verify bool) (*h1Conn, error) {
	now := time.Now()
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		pc := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		idle := now.Sub(pc.lastUsed)
		if idle < p.idleTimeout && ((idle < checkIdleAfter && !verify) || pc.alive()) {
			pc.reused = true
			return pc, nil
		}
		pc.nc.Close()
	}
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	rw := newRawIO(nc)
	pc := &h1Conn{nc: nc, rw: rw, bw: bufio.NewWriterSize(rw, 16<<10)}
	pc.br = bufio.NewReaderSize(countingReader{pc}, 16<<10)
	return pc, nil
}

// countingReader counts the bytes an upstream sent on a connection, so a
// retry is only considered when it sent nothing in answer.
type countingReader struct{ pc *h1Conn }

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.pc.rw.Read(p)
	c.pc.nread += int64(n)
	return n, err
}

// alive reports whether an idle connection is still open: a non-blocking
// peek that would block means no EOF and no unexpected bytes are waiting.
// (A read deadline in the past cannot tell: Go fails such a read before it
// reaches the socket.)
func (pc *h1Conn) alive() bool {
	if pc.br.Buffered() > 0 {
		return false // the upstream sent something unasked: do not trust it
	}
	if q, ok := pc.rw.(interface{ quiet() bool }); ok {
		return q.quiet() // the same check without allocating (Linux)
	}
	sc, ok := pc.nc.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	wouldBlock := false
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		wouldBlock = rerr == syscall.EAGAIN
		return true
	})
	return err == nil && wouldBlock
}

var aLongTimeAgo = time.Unix(1, 0)

// checkIdleAfter is how long a connection must have sat in the pool before
// get spends a system call checking it for a request safe to repeat.
// Bytes an app sends within that much of its answer are nearly always read
// with the answer and seen by put; those that come later still are
// indistinguishable from bytes that come just after any check, the race no
// HTTP/1.1 pool can close. Below it, under load, is where nearly every
// reuse happens: checking there cost the shared-core benchmark about 8 %
// of its throughput.
const checkIdleAfter = 100 * time.Microsecond

// send writes req on pc and reads the response head. A request cancelled
// by its client aborts the connection through a deadline.
func (p *h1Pool) send(pc *h1Conn, req *http.Request, replay bool) (*http.Response, error) {
	pc.sent = pc.nread
	stop := context.AfterFunc(req.Context(), func() { pc.nc.SetDeadline(aLongTimeAgo) })
	if err := req.Write(pc.bw); err != nil {
		return nil, p.abort(pc, req, stop, err)
	}
	if err := pc.bw.Flush(); err != nil {
		return nil, p.abort(pc, req, stop, p.staleOr(pc, req, replay, false, err))
	}
	for {
		resp, err := http.ReadResponse(pc.br, req)
		if err != nil {
			return nil, p.abort(pc, req, stop, p.staleOr(pc, req, replay, true, err))
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue // interim responses (103 Early Hints) are not forwarded
		}
		// As on the fast path, a connection that answered HEAD is not
		// reused (see fastConn.relay).
		keep := !resp.Close && !req.Close && req.Method != http.MethodHead
		resp.Body = &h1Body{rc: resp.Body, pc: pc, pool: p, stop: stop, keep: keep}
		return resp, nil
	}
}

func (p *h1Pool) abort(pc *h1Conn, req *http.Request, stop func() bool, err error) error {
	stop()
	pc.nc.Close()
	if ctxErr := req.Context().Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}

// staleOr turns err into errStale when a reused connection turned out to be
// closed by the upstream before it answered a single byte, and the request
// can be sent again: it has no body or its body was kept (replay), and it
// was not read (see retryable). The race is narrow (alive checked the
// connection just before) but real when apps close idle connections, and
// a failed request is what bascule promises never to cause.
func (p *h1Pool) staleOr(pc *h1Conn, req *http.Request, replay, written bool, err error) error {
	hasBody := req.Body != nil && req.Body != http.NoBody
	if (hasBody && !replay) || !pc.retryable(err, written, replayableMethod(req.Method, req.Header)) {
		return err
	}
	return errStale
}

// retryable reports whether err on a reused connection means the upstream
// had closed it before it answered a single byte, so that the request may
// be sent again on another connection. When the request could not even be
// written, the upstream cannot have read it, whatever its method. Once it
// was written, it depends on why the upstream hung up:
//   - it closed the connection as idle while the request was on its way,
//     the race every pool of keep-alive connections has: the app never saw
//     the request, and its kernel answers the request's bytes with a reset
//     (wasReset);
//   - it read the request, may have acted on it, and crashed before
//     answering: its end of stream comes with no reset.
//
// In the second case only a request safe to repeat is sent again, as
// http.Transport does: sending a checkout twice is worse than a 502.
func (pc *h1Conn) retryable(err error, written, idempotent bool) bool {
	if !pc.reused || pc.nread != pc.sent {
		return false
	}
	closed := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
	switch {
	case !closed:
		return false
	case !written || idempotent || errors.Is(err, syscall.ECONNRESET):
		return true
	}
	return pc.wasReset()
}

// wasReset reports whether the upstream's kernel reset the connection after
// it ended: it received bytes of the request after the app had closed the
// socket, so the app never read them. The reset follows the end of stream
// by about a round trip, so wasReset waits for it a little (8 ms at most,
// on a failure path only); a read cannot see it once the end of stream was
// read, but the socket's pending error can. Linux records a reset as
// ECONNRESET, or as EPIPE when it comes after the upstream's end of stream
// (the connection was then half closed: the usual order when the app
// closed before the request was written, and the common one under load).
func (pc *h1Conn) wasReset() bool {
	sc, ok := pc.nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	for wait := time.Duration(0); ; wait = max(2*wait, time.Millisecond) {
		soErr := 0
		if err := raw.Control(func(fd uintptr) {
			soErr, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		}); err != nil {
			return false
		}
		switch {
		case soErr == int(syscall.ECONNRESET) || soErr == int(syscall.EPIPE):
			return true
		case soErr != 0 || wait >= 8*time.Millisecond:
			return false
		}
		time.Sleep(wait) // no event to wait on: the socket already reads as ended
	}
}

// replayableMethod reports whether a request may be repeated: by its
// method (GET, HEAD, OPTIONS, TRACE), or because the client marked it with
// an idempotency key; the rule of http.Transport.
func replayableMethod(method string, h http.Header) bool {
	return safeMethod(method) || h.Get("Idempotency-Key") != "" || h.Get("X-Idempotency-Key") != ""
}

// safeMethod reports whether a method is one http.Transport repeats.
func safeMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// put returns a connection to the pool, or closes it when the pool is full
// or the upstream sent more than its response.
func (p *h1Pool) put(pc *h1Conn) {
	pc.lastUsed = time.Now()
	p.mu.Lock()
	if !p.closed && len(p.idle) < p.maxIdle && pc.br.Buffered() == 0 {
		p.idle = append(p.idle, pc)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	pc.nc.Close()
}

// close closes the idle connections; busy ones close when their body does.
func (p *h1Pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, pc := range idle {
		pc.nc.Close()
	}
}

// h1Body is a response body that gives its connection back to the pool
// once read to the end; closed early, it closes the connection instead of
// draining it (it may be an endless stream).
type h1Body struct {
	rc   io.ReadCloser
	pc   *h1Conn
	pool *h1Pool
	stop func() bool
	keep bool
	eof  bool
	done bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *h1Body) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	reusable := b.eof && b.keep && b.stop()
	if !reusable {
		b.stop()
		b.pc.nc.Close()
	}
	err := b.rc.Close()
	if reusable {
		b.pool.put(b.pc)
	}
	return err
}
