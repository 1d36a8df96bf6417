package router

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"
)

// Figures of passive ejection (docs/adr/0012-instances-per-color.md), used
// when Options leaves them zero.
const (
	// DefaultEjectAfter is how many connection failures in a row eject an
	// instance.
	DefaultEjectAfter = 3
	// DefaultEject5xx is how many 5xx answers in a row eject an instance,
	// unless it is the last of its color that takes traffic.
	DefaultEject5xx = 5
	// DefaultEjectFor is the first ejection's length; each further one in a
	// row doubles it, up to DefaultEjectMax.
	DefaultEjectFor = time.Second
	// DefaultEjectMax caps an ejection's length.
	DefaultEjectMax = 30 * time.Second
)

// ejection is how Options' ejection figures apply, defaults filled in.
type ejection struct {
	after  int32
	burst  int32
	period time.Duration
	max    time.Duration
}

func newEjection(o Options) ejection {
	e := ejection{after: int32(o.EjectAfter), burst: int32(o.Eject5xx), period: o.EjectFor, max: o.EjectMax}
	if e.after <= 0 {
		e.after = DefaultEjectAfter
	}
	if e.burst <= 0 {
		e.burst = DefaultEject5xx
	}
	if e.period <= 0 {
		e.period = DefaultEjectFor
	}
	if e.max < e.period {
		e.max = max(DefaultEjectMax, e.period)
	}
	return e
}

// health is an instance's record of failures, kept only while it belongs
// to a color of several instances (upstream.balanced): one instance alone
// gets every request of its color whatever its state.
type health struct {
	fails     atomic.Int32 // connection failures in a row
	errs      atomic.Int32 // 5xx answers in a row
	ejections atomic.Int32 // ejections without a success between: the backoff's exponent
	until     atomic.Int64 // UnixNano when the ejection ends; 0: not ejected
	lastFail  atomic.Int64 // UnixNano of the last failure, for fallback
}

// reset forgets every failure and ends any ejection.
func (h *health) reset() {
	h.fails.Store(0)
	h.errs.Store(0)
	h.ejections.Store(0)
	h.until.Store(0)
	h.lastFail.Store(0)
}

// available reports whether u may get new requests: it is not ejected, or
// its ejection is over (it is then on probation: one failure ejects it
// again, for twice as long).
func (u *upstream) available() bool {
	until := u.health.until.Load()
	return until == 0 || time.Now().UnixNano() >= until
}

// answered records an answer of u with status; a success ends any
// ejection and forgets past failures.
func (r *Router) answered(u *upstream, status int) {
	h := &u.health
	if status >= 500 {
		if h.errs.Add(1) >= r.eject.burst {
			r.failed(u, "5xx burst", true)
		}
		return
	}
	if h.fails.Load() != 0 {
		h.fails.Store(0)
	}
	if h.errs.Load() != 0 {
		h.errs.Store(0)
	}
	r.restore(u, "it answered")
}

// connFailed records that a request could not get an answer from u.
func (r *Router) connFailed(u *upstream, err error) {
	h := &u.health
	if h.fails.Add(1) >= r.eject.after || h.ejections.Load() > 0 {
		r.failed(u, "connection failures: "+err.Error(), false)
		return
	}
	h.lastFail.Store(time.Now().UnixNano())
}

// failed ejects u for its backoff period, unless it is ejected already. A
// 5xx burst (keepLast) does not eject the last instance of a color that
// takes traffic: when every instance fails alike the release is at fault,
// not one instance, and that is the guard's to judge.
func (r *Router) failed(u *upstream, why string, keepLast bool) {
	h := &u.health
	now := time.Now()
	h.lastFail.Store(now.UnixNano())
	old := h.until.Load()
	if old > now.UnixNano() {
		return // ejected already
	}
	s := r.snap.Load()
	set := s.setOf(u)
	if keepLast && (set == nil || !set.othersAvailable(u)) {
		return
	}
	n := h.ejections.Load()
	d := r.eject.period << min(n, 20)
	if d > r.eject.max || d <= 0 {
		d = r.eject.max
	}
	if !h.until.CompareAndSwap(old, now.Add(d).UnixNano()) {
		return // another request ejected it meanwhile
	}
	h.ejections.Add(1)
	h.fails.Store(0)
	h.errs.Store(0)
	c, _, _ := s.colorOf(u)
	r.log.Warn("instance ejected", "upstream", u.addr, "color", c, "for", d, "reason", why)
	if set != nil && !set.othersAvailable(u) {
		r.log.Error("no instance of the color takes traffic: each request goes to the one that failed longest ago",
			"color", c, "upstreams", set.key)
	}
}

// restore ends u's ejection (and its backoff) after a success.
func (r *Router) restore(u *upstream, why string) {
	h := &u.health
	if h.ejections.Load() == 0 && h.until.Load() == 0 {
		return
	}
	h.ejections.Store(0)
	h.fails.Store(0)
	if h.until.Swap(0) != 0 {
		r.log.Info("instance back", "upstream", u.addr, "reason", why)
	}
}

// mayRetryElsewhere reports whether a request that failed at one instance
// may be sent to another: the rule of ADR 0004 for a new connection. A
// request never sent (the dial failed: pc is nil), or not sent whole, the
// app cannot have acted on; one sent whole that got no byte of answer is
// sent again only if it is safe to repeat, as the app may have acted on it
// before it died.
func mayRetryElsewhere(pc *h1Conn, err error, written, replayable bool) bool {
	switch {
	case pc == nil:
		return true
	case pc.nread != pc.sent:
		return false // the app answered something
	case !written:
		return true
	}
	return replayable && connClosed(err)
}

// connClosed reports whether err is the connection ending under a request.
func connClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// dialFailed reports whether err is a failure to connect, so that nothing
// of the request was sent.
func dialFailed(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// balancedTransport is the net/http front's transport to one instance of a
// color of several: it records each answer and failure for ejection, and
// sends a request without a body that could not be sent, or a safe one that
// got no answer, to another instance of the color (mayRetryElsewhere's
// rule). Requests with a body are not retried here: it was read.
type balancedTransport struct {
	r  *Router
	u  *upstream
	rt http.RoundTripper // u's own (limited) transport
}

func (t balancedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if !t.u.balanced.Load() {
		return resp, err
	}
	u, tried := t.u, uint64(0)
	for {
		if err == nil {
			t.r.answered(u, resp.StatusCode)
			return resp, nil
		}
		if req.Context().Err() != nil || errors.Is(err, errQueueTimeout) {
			return nil, err // the client left, or the instance is busy: no failure of the instance
		}
		t.r.connFailed(u, err)
		bodyless := req.Body == nil || req.Body == http.NoBody
		if !bodyless || !(dialFailed(err) || (replayableMethod(req.Method, req.Header) && connClosed(err))) {
			return nil, err
		}
		alt := t.r.alternative(u, &tried)
		if alt == nil || alt.main == nil {
			return nil, err
		}
		alt.inflight.Add(1)
		out := req.Clone(req.Context())
		out.URL.Host = alt.addr
		if resp, err = alt.main.RoundTrip(out); err != nil {
			alt.release()
		} else {
			resp.Body = &releasingBody{ReadCloser: resp.Body, u: alt}
		}
		u = alt
	}
}

// releasingBody ends a retried request's count on its instance when the
// proxy closes the answer's body.
type releasingBody struct {
	io.ReadCloser
	u    *upstream
	done bool
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	if !b.done {
		b.done = true
		b.u.release()
	}
	return err
}

// alternative returns another instance of the color u belongs to now for a
// request that failed at u, marking u in tried; nil when there is none
// left to try. tried holds the set's indexes already tried.
func (r *Router) alternative(u *upstream, tried *uint64) *upstream {
	set := r.snap.Load().setOf(u)
	if set == nil || len(set.ups) < 2 {
		return nil
	}
	if i := set.index(u); i < 64 {
		*tried |= 1 << i
	}
	alt := set.fallback(*tried)
	if alt != nil {
		if i := set.index(alt); i < 64 {
			*tried |= 1 << i
		}
	}
	return alt
}
