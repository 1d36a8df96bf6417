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
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

// Buffer sizes of a fast-path client connection. A request head must fit in
// the read buffer to take the fast path; a larger one goes to net/http.
const (
	clientReadBuffer  = 8 << 10
	clientWriteBuffer = 8 << 10
)

// errHandoff means the request is for net/http, not the fast path.
var errHandoff = errors.New("hand off to net/http")

// fastConn is one client connection served by the fast path.
type fastConn struct {
	s  *Server
	r  *Router
	nc net.Conn
	cr connReader // what br reads from
	br *bufio.Reader
	bw *bufio.Writer
	ip []byte // the client's address, for X-Forwarded-For

	idle     atomic.Bool // waiting for a request
	served   atomic.Bool // it has carried a request
	accepted time.Time   // when the server accepted it

	req   requestHead
	resp  responseHead
	body  chunkScanner
	watch clientWatch

	// Of the request being served, kept apart from req because a streamed
	// body overwrites the buffer req's slices point into.
	isHead    bool
	afterPost bool // the last request was a POST
	reqClose  bool
	bodyTaken bool  // the head was consumed and the body is being streamed from the client
	bodyLeft  int64 // of a streamed body, the bytes not yet read from the client
	// unread is set when the connection closes with part of a request body
	// still unread: it then closes the way net/http does (lingerClose), so
	// that the client gets to read the answer before the kernel resets the
	// connection over the bytes it is still sending.
	unread bool

	respHeadLen int // length of the response head in the upstream's buffer
	// cohort, when set, is a cohort the router just gave this request's
	// client: its answer sets the cohort cookie.
	cohort string
	edge   *edge // the router's settings, as the request began

	queueTimer *time.Timer // bounds waits for a slot at a busy app; made at the first wait
}

// newConn registers a new client connection; nil when the server is closing.
func (s *Server) newConn(nc net.Conn) *fastConn {
	c := &fastConn{s: s, r: s.router, nc: nc, accepted: time.Now()}
	if host, _, err := net.SplitHostPort(nc.RemoteAddr().String()); err == nil {
		c.ip = []byte(host)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	s.conns[c] = struct{}{}
	return c
}

// serve reads requests from the connection until it ends or is handed off.
func (c *fastConn) serve() {
	rw := newRawIO(c.nc)
	c.cr.nc, c.cr.rd = c.nc, rw
	c.watch.cr = &c.cr
	c.br = c.s.reader(&c.cr)
	c.bw = c.s.writer(rw)
	handedOff := false
	defer func() {
		if e := recover(); e != nil {
			c.r.log.Error("router: panic serving a connection", "err", e, "stack", string(debug.Stack()))
		}
		c.s.forget(c)
		if !handedOff {
			if c.unread {
				lingerClose(c.nc, c.br)
			}
			c.nc.Close()
		}
		c.s.release(c.br, c.bw)
	}()
	for {
		if !c.s.setIdle(c, true) {
			return
		}
		if c.br.Buffered() == 0 {
			// Let the other connections run before reading: by then the
			// client has more often sent its next request, and a read that
			// finds data saves a failed read, a park and a wake-up. On a
			// busy router this batches work the way an event loop does; on
			// an idle one Gosched returns at once.
			runtime.Gosched()
			c.nc.SetReadDeadline(time.Now().Add(c.s.idleTimeout))
			if _, err := c.br.Peek(1); err != nil {
				return
			}
		}
		// A request that began arriving is served even if shutdown began.
		c.s.setIdle(c, false)
		if c.afterPost {
			// As net/http does, for old clients that end a POST body with
			// an extra CRLF: up to 4 CR or LF bytes before a request.
			peek, _ := c.br.Peek(min(4, c.br.Buffered()))
			c.br.Discard(numLeadingCRorLF(peek))
			c.afterPost = false
			if c.br.Buffered() == 0 {
				continue
			}
		}
		n, err := c.readHead()
		if errors.Is(err, errHandoff) {
			handedOff = c.handoff()
			return
		}
		if err != nil {
			return
		}
		head, _ := c.br.Peek(n)
		if !parseRequestHead(head, &c.req) || c.r.wantsNetHTTP(&c.req) {
			handedOff = c.handoff()
			return
		}
		if !c.proxy(head) {
			return
		}
	}
}

// readHead waits until the buffer holds a whole request head and returns
// its length. A head that does not fit is errHandoff.
func (c *fastConn) readHead() (int, error) {
	n, err := peekHead(c.br, func() {
		// Most heads arrive in one read and never get here.
		c.nc.SetReadDeadline(time.Now().Add(c.s.readHeaderTimeout))
	})
	if errors.Is(err, errHeadTooLarge) {
		return 0, errHandoff
	}
	return n, err
}

// errHeadTooLarge means a read buffer filled up without holding a whole head.
var errHeadTooLarge = errors.New("head larger than the read buffer")

// peekHead waits until br holds a whole head (request or response) and
// returns its length, leaving it in the buffer. waiting, if set, is called
// once, before the first read that has to wait for more bytes.
func peekHead(br *bufio.Reader, waiting func()) (int, error) {
	for from := 0; ; {
		buf, _ := br.Peek(br.Buffered())
		if n := headEnd(buf, from); n >= 0 {
			return n, nil
		}
		if len(buf) >= br.Size() {
			return 0, errHeadTooLarge
		}
		if waiting != nil {
			waiting()
			waiting = nil
		}
		from = len(buf)
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return 0, err
		}
	}
}

// numLeadingCRorLF counts the CR and LF bytes at the start of b.
func numLeadingCRorLF(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
		n++
	}
	return n
}

// Bounds of lingerClose, net/http's figures for the same purpose (its
// rstAvoidanceDelay and maxPostHandlerReadBytes).
const (
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 256 << 10
)

// lingerClose readies for closing a connection whose client may still be
// sending a request body nobody will read. It half-closes, so the client
// sees the end of the answer, then reads and discards what still comes, for
// a bounded time and size: closing a socket with unread bytes makes the
// kernel reset the connection, and a reset can destroy the answer before
// the client has read it.
func lingerClose(nc net.Conn, br *bufio.Reader) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.CopyN(io.Discard, br, lingerBytes)
}

// handoff gives the connection, with every byte read from it so far, to the
// net/http server. It reports whether net/http took it.
func (c *fastConn) handoff() bool {
	c.s.forget(c)
	buf, _ := c.br.Peek(c.br.Buffered())
	prefix := bytes.Clone(buf)
	if c.cr.has {
		prefix = append(prefix, c.cr.stash[0])
	}
	pc := &prefixConn{Conn: c.nc, prefix: prefix}
	c.nc.SetReadDeadline(time.Time{}) // net/http sets its own
	return c.s.handoff.push(pc)
}

// wantsNetHTTP reports whether a request the fast path could parse still
// needs net/http: one whose query may carry a preview link, which is
// answered there (a redirect or a refusal) or stripped before the app sees
// it (ServeHTTP).
func (r *Router) wantsNetHTTP(h *requestHead) bool {
	q := bytes.IndexByte(h.target, '?')
	return q >= 0 && mentionsPreview(h.target[q+1:])
}

// proxy serves one parsed request and reports whether the connection can
// carry another.
func (c *fastConn) proxy(head []byte) bool {
	r := c.r
	var start time.Time
	if r.observe != nil {
		start = time.Now()
	}
	c.isHead = string(c.req.method) == "HEAD"
	c.afterPost = string(c.req.method) == "POST"
	c.reqClose = c.req.close
	c.bodyTaken, c.bodyLeft = false, 0
	c.edge = r.edge.Load()
	u, color, cohort := r.acquire(c.edge, c.edge.preview.matchHead(&c.req) == toIdle, &c.req)
	c.cohort = cohort
	if u == nil {
		keep := c.answerError(len(head), http.StatusBadGateway, unreachableText(color, true, true))
		if r.observe != nil {
			r.observe(color, http.StatusBadGateway, 0)
		}
		return keep
	}
	defer u.release() // even if a bug panics: Drain must not wait forever
	status, keep := c.exchange(u, head)
	if r.observe != nil {
		r.observe(color, status, time.Since(start))
	}
	return keep
}

// wholeInBuffer reports whether the read buffer holds the request's whole
// body after its head of headLen bytes.
func (c *fastConn) wholeInBuffer(headLen int) bool {
	return int64(c.br.Buffered()-headLen) >= c.req.contentLength
}

// exchange sends the request to u and relays the response. When u is one
// of several instances of its color and the request failed there in a way
// that lets it go elsewhere (mayRetryElsewhere), it goes to another
// instance, each instance tried once; it stays counted in flight on u
// until it ends, and on each instance it went to, so Drain misses none.
func (c *fastConn) exchange(u *upstream, head []byte) (status int, keep bool) {
	var tried uint64
	for {
		status, keep, alt := c.exchangeAt(u, head, &tried)
		if alt == nil {
			return status, keep
		}
		alt.inflight.Add(1)
		defer alt.release() // bounded: each instance is tried once
		u = alt
	}
}

// exchangeAt sends the request to the instance u and relays the response.
// A request wholly in the buffer (head and body) can be sent again when a
// pooled connection turns out to have been closed by the upstream. With a
// concurrency limit, the request first waits for its turn, and holds its
// slot until the app's response head has arrived (or the exchange failed).
// It returns alt, with nothing answered, when the request is to go to
// another instance of u's color.
func (c *fastConn) exchangeAt(u *upstream, head []byte, tried *uint64) (status int, keep bool, alt *upstream) {
	whole := c.wholeInBuffer(len(head))
	held := false // a slot of u.lim
	if u.lim != nil {
		if !u.lim.tryAcquire() {
			switch err := c.waitTurn(u.lim); {
			case errors.Is(err, errClientGone):
				c.r.log.Debug("proxy: client went away while queued", "upstream", u.addr)
				return statusClientGone, false, nil
			case err != nil:
				return http.StatusServiceUnavailable, c.answerError(len(head), http.StatusServiceUnavailable, c.r.busyMessage(u, err)), nil
			}
		}
		held = true
		defer func() { // even if a bug panics: a lost slot would be lost for good
			if held {
				u.lim.release()
			}
		}()
	}
	for {
		written := false // the whole request went to the upstream
		pc, err := u.pool.get(context.Background(), !c.req.replayable())
		if err == nil {
			err = c.send(pc, head, whole)
		}
		if err == nil {
			written = true
			c.watch.arm(pc.nc)
			runtime.Gosched() // likewise, before waiting for the upstream's answer
			err = c.readResponseHead(pc)
		}
		if err == nil {
			if held { // the app has answered: the next in line may go
				held = false
				u.lim.release()
			}
			if u.balanced.Load() {
				c.r.answered(u, c.resp.status)
			}
			if whole {
				c.br.Discard(len(head) + int(c.req.contentLength))
				c.bodyTaken = true
			}
			status, keep, reuse := c.relay(u, pc)
			c.watch.stop()
			switch {
			case c.watch.gone.Load():
				pc.nc.Close()
				return statusClientGone, false, nil
			case reuse:
				u.pool.put(pc)
			default:
				pc.nc.Close()
			}
			return status, keep, nil
		}
		c.watch.stop()
		if pc != nil {
			retry := whole && pc.retryable(err, written, c.req.replayable())
			pc.nc.Close()
			if retry {
				continue
			}
		}
		var ce clientError
		if errors.As(err, &ce) || c.watch.gone.Load() {
			c.r.log.Debug("proxy: client went away", "upstream", u.addr, "err", err)
			return statusClientGone, false, nil
		}
		if u.balanced.Load() {
			c.r.connFailed(u, err)
			streamed := c.bodyTaken && !whole
			if !streamed && mayRetryElsewhere(pc, err, written, c.req.replayable()) {
				if alt := c.r.alternative(u, tried); alt != nil {
					c.r.log.Debug("proxy: instance failed, trying another", "upstream", u.addr, "other", alt.addr, "err", err)
					return 0, false, alt
				}
			}
		}
		return http.StatusBadGateway, c.answerError(len(head), http.StatusBadGateway, c.r.unreachableMessage(u, err)), nil
	}
}

// waitTurn waits in line at l until a slot is free, the queue timeout
// passes (errQueueTimeout) or the client hangs up (errClientGone). A wait
// longer than watchAfter has the client watched meanwhile; shorter ones, the
// usual kind, cost one reset of the connection's own timer and nothing else.
func (c *fastConn) waitTurn(l *limiter) error {
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	first := min(watchAfter, l.timeout)
	if c.queueTimer == nil {
		c.queueTimer = time.NewTimer(first)
	} else {
		c.queueTimer.Reset(first)
	}
	err := l.wait(nil, nil, c.queueTimer.C)
	if err == nil || first == l.timeout {
		c.queueTimer.Stop()
		return err
	}
	c.queueTimer.Reset(l.timeout - first)
	abort := make(chan struct{})
	c.watch.armQueued(abort)
	err = l.wait(abort, func() error { return errClientGone }, c.queueTimer.C)
	c.watch.stop()
	c.queueTimer.Stop()
	if err == nil && c.watch.gone.Load() { // the slot came as the client left
		l.release()
		err = errClientGone
	}
	return err
}

// replayable reports whether the request may be sent again if its
// upstream hangs up without answering (replayableMethod's rule).
func (h *requestHead) replayable() bool {
	if safeMethod(string(h.method)) {
		return true
	}
	for i := range h.fields {
		if n := h.fields[i].name; h1Is(n, "idempotency-key") || h1Is(n, "x-idempotency-key") {
			return true
		}
	}
	return false
}

// errClientGone ends the wait of a request whose client hung up.
var errClientGone = errors.New("client went away while waiting for a slot")

// statusClientGone is what Observe is told of a request whose client hung
// up before its response was complete (nginx's 499).
const statusClientGone = 499

// clientError wraps a failure reading from the client, as opposed to one
// talking to the upstream.
type clientError struct{ err error }

func (e clientError) Error() string { return "client: " + e.err.Error() }
func (e clientError) Unwrap() error { return e.err }

// send writes the request to pc: its request line and header lines as the
// client sent them, minus hop-by-hop lines, the preview token and stripped
// cookies, plus X-Forwarded-*; then the body.
func (c *fastConn) send(pc *h1Conn, head []byte, whole bool) error {
	pc.sent = pc.nread
	bw := pc.bw
	bw.Write(head[:bytes.IndexByte(head, '\n')+1])
	c.writeFields(bw)
	if c.ip != nil {
		bw.WriteString("X-Forwarded-For: ")
		bw.Write(c.ip)
		bw.WriteString("\r\n")
	}
	bw.WriteString("X-Forwarded-Host: ")
	bw.Write(c.req.host)
	bw.WriteString("\r\nX-Forwarded-Proto: http\r\n\r\n")
	n := c.req.contentLength
	switch {
	case n == 0:
	case whole:
		body, _ := c.br.Peek(len(head) + int(n))
		bw.Write(body[len(head):])
	default:
		// A large or slow upload streams through; the head's bytes are
		// released first so the buffer can take the body.
		c.br.Discard(len(head))
		c.nc.SetReadDeadline(time.Time{})
		c.bodyTaken, c.bodyLeft = true, n
		if err := c.copyBody(bw); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// copyBody streams the rest of the request body (bodyLeft bytes) from the
// client to the upstream, counting down bodyLeft as it goes: when the
// upstream fails midway, what is left of the body is still on the client
// connection, and answerError must know it.
func (c *fastConn) copyBody(dst *bufio.Writer) error {
	src := c.br
	for c.bodyLeft > 0 {
		if src.Buffered() == 0 {
			// What came so far goes on before the wait for more: a slow
			// upload reaches the app as it arrives, and an app that hung up
			// is noticed now rather than a buffer later.
			if err := dst.Flush(); err != nil {
				return err
			}
			if _, err := src.Peek(1); err != nil {
				return clientError{err}
			}
		}
		buf, _ := src.Peek(int(min(int64(src.Buffered()), c.bodyLeft)))
		// Written before it is discarded: a byte counts as consumed only
		// once the upstream took it, though the connection closes on a
		// failure either way.
		if _, err := dst.Write(buf); err != nil {
			return err
		}
		src.Discard(len(buf))
		c.bodyLeft -= int64(len(buf))
	}
	return nil
}

// writeFields writes the request's header lines that go upstream.
func (c *fastConn) writeFields(bw *bufio.Writer) {
	p := c.edge.preview
	for i := range c.req.fields {
		f := &c.req.fields[i]
		switch f.class {
		case fieldDrop:
			continue
		case fieldCookie:
			c.writeCookie(bw, f)
			continue
		case fieldPass:
			if p != nil && bytes.EqualFold(f.name, p.headerBytes) {
				continue // the app never sees the preview token
			}
		}
		bw.Write(f.line)
	}
}

// writeCookie writes a Cookie line without the preview cookie and the
// cookies the router strips; untouched lines are copied as they came.
func (c *fastConn) writeCookie(bw *bufio.Writer, f *field) {
	names := c.edge.stripped
	hit := false
	for _, name := range names {
		if _, ok := cookieValue(f.value, name); ok {
			hit = true
			break
		}
	}
	if !hit {
		bw.Write(f.line)
		return
	}
	lines := []string{string(f.value)}
	for _, name := range names {
		lines = withoutCookie(lines, 0, name)
	}
	for _, l := range lines {
		bw.WriteString("Cookie: ")
		bw.WriteString(l)
		bw.WriteString("\r\n")
	}
}

// readResponseHead reads pc's response head into c.resp, skipping interim
// (1xx) responses. The head stays in pc's buffer; its length is returned
// through c.resp.
func (c *fastConn) readResponseHead(pc *h1Conn) error {
	for {
		n, err := peekHead(pc.br, nil)
		if errors.Is(err, errHeadTooLarge) {
			return fmt.Errorf("response head larger than %d bytes", pc.br.Size())
		}
		if err != nil {
			return err
		}
		head, _ := pc.br.Peek(n)
		if err := parseResponseHead(head, &c.resp); err != nil {
			return err
		}
		if c.resp.status >= 200 {
			c.respHeadLen = n
			return nil
		}
		if c.resp.status == 101 {
			return errors.New("101 Switching Protocols to a request without Upgrade")
		}
		pc.br.Discard(n) // 103 Early Hints and the like are not forwarded
	}
}

// relay writes the response whose head is in pc's buffer to the client. It
// reports whether pc may carry another request.
func (c *fastConn) relay(u *upstream, pc *h1Conn) (status int, keep, reuse bool) {
	rh := &c.resp
	head, _ := pc.br.Peek(c.respHeadLen)
	bw := c.bw
	bw.WriteString("HTTP/1.1")
	bw.Write(head[len("HTTP/1.x") : bytes.IndexByte(head, '\n')+1])
	for i := range rh.fields {
		if f := &rh.fields[i]; f.class != fieldDrop {
			bw.Write(f.line)
		}
	}
	if !rh.hasDate {
		bw.Write(c.s.date.line())
	}
	if c.cohort != "" {
		c.edge.cohorts.writeSetCookie(bw, c.cohort)
	}
	noBody := c.isHead || rh.status == 204 || rh.status == 304
	keep = !c.reqClose
	switch {
	case rh.chunked && rh.status != 204 && rh.status != 304:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case !noBody && !rh.chunked && rh.contentLength < 0:
		keep = false // the body ends when the upstream closes: so must the client's copy
	}
	if !keep {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	pc.br.Discard(c.respHeadLen)

	var err error
	upKeep := !rh.close
	switch {
	case noBody:
	case rh.chunked:
		c.body.reset()
		err = c.copyChunked(pc)
	case rh.contentLength >= 0:
		err = c.copyN(pc, rh.contentLength)
	default:
		err = c.copyToEOF(pc)
		upKeep = false
	}
	if err == nil {
		if err = bw.Flush(); err != nil {
			err = clientError{err}
		}
	}
	if err != nil {
		var ce clientError
		if !errors.As(err, &ce) && !c.watch.gone.Load() {
			c.r.log.Warn("proxy: upstream failed mid-response", "upstream", u.addr, "err", err)
		}
		return rh.status, false, false
	}
	// An upstream that sent more than its response is never trusted again,
	// nor one that answered HEAD: an app that wrongly sends a body there
	// may send it a moment later, and it would be read as the answer to
	// another client's request. The pool checks for bytes that came later
	// before it hands a connection out again (h1Pool.get).
	return rh.status, keep, upKeep && !c.isHead && pc.br.Buffered() == 0
}

// copyN relays n body bytes, flushing to the client whenever the upstream
// has nothing more buffered, so a stream reaches the client as it comes.
func (c *fastConn) copyN(pc *h1Conn, n int64) error {
	for n > 0 {
		buf, err := c.next(pc)
		if err != nil {
			return err
		}
		buf = buf[:min(int64(len(buf)), n)]
		if _, err := c.bw.Write(buf); err != nil {
			return clientError{err}
		}
		pc.br.Discard(len(buf))
		n -= int64(len(buf))
	}
	return nil
}

// copyChunked relays a chunked body verbatim up to its end.
func (c *fastConn) copyChunked(pc *h1Conn) error {
	for {
		buf, err := c.next(pc)
		if err != nil {
			return err
		}
		n, done, err := c.body.scan(buf)
		if err != nil {
			return fmt.Errorf("chunked response body: %w", err)
		}
		if _, err := c.bw.Write(buf[:n]); err != nil {
			return clientError{err}
		}
		pc.br.Discard(n)
		if done {
			return nil
		}
	}
}

// copyToEOF relays a body delimited by the upstream closing its connection.
func (c *fastConn) copyToEOF(pc *h1Conn) error {
	for {
		buf, err := c.next(pc)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := c.bw.Write(buf); err != nil {
			return clientError{err}
		}
		pc.br.Discard(len(buf))
	}
}

// next returns the upstream's buffered bytes, first flushing what the client
// has been sent when it must wait for more.
func (c *fastConn) next(pc *h1Conn) ([]byte, error) {
	if pc.br.Buffered() == 0 {
		if err := c.bw.Flush(); err != nil {
			return nil, clientError{err}
		}
		if _, err := pc.br.Peek(1); err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("read response body: %w", err)
		}
	}
	return pc.br.Peek(pc.br.Buffered())
}

// answerError answers status (502 or 503) with msg before anything of the
// response was sent, and reports whether the connection can carry another
// request. It can only when the request's body was consumed exactly to its
// end: the next bytes on the connection are then the next request. Whatever
// else is left of a body — never sent, or cut short by an upstream that
// failed while it streamed — is the client's data, not a request, so the
// answer says Connection: close and the connection closes.
func (c *fastConn) answerError(headLen, status int, msg string) bool {
	keep := !c.reqClose
	switch {
	case c.bodyTaken:
		if c.bodyLeft > 0 {
			keep, c.unread = false, true
		}
	case c.wholeInBuffer(headLen):
		c.br.Discard(headLen + int(c.req.contentLength))
	default:
		keep, c.unread = false, true
	}
	bw := c.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(status))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(status))
	bw.WriteString("\r\n")
	for _, kv := range errorHeader {
		bw.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	bw.Write(c.s.date.line())
	fmt.Fprintf(bw, "Content-Length: %d\r\n", len(msg))
	if !keep {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	if !c.isHead {
		bw.WriteString(msg)
	}
	return bw.Flush() == nil && keep
}
