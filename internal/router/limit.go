package router

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// errQueueTimeout is why a request waited in vain for its turn at an
// upstream at its concurrency limit; it is answered 503, not 502: the app is
// up, only busy.
var errQueueTimeout = errors.New("waited too long for a free slot at the app")

// limiter caps how many requests one upstream works on at once. Requests
// over the cap wait in bascule, first come first served, rather than in the
// app's socket buffers, where its event loop serves them in batches in
// whatever order its poller reports them: under a steady overload the queue
// is as long either way, but a fair one has a shorter latency tail (see
// docs/adr/0005-app-concurrency.md). A request holds its
// slot from before it is sent until the app's response head arrives, so
// streams, SSE and upgraded connections do not hold one for their lifetime.
//
// The slots are a buffered channel rather than x/sync/semaphore: senders
// blocked on a channel are woken in order too, and the fast path waits with
// a timer its connection reuses instead of a context, a list element and a
// timer per wait. With the semaphore, the benchmark in ADR 0005 lost 17 % of
// its throughput and none of its latency tail.
type limiter struct {
	slots   chan struct{} // one element per request the app works on
	timeout time.Duration
	waiting atomic.Int64 // requests in line, for Queued
}

// newLimiter returns a limiter of max slots, or nil (no limit) when max <= 0.
func newLimiter(max int, timeout time.Duration) *limiter {
	if max <= 0 {
		return nil
	}
	if timeout <= 0 {
		timeout = DefaultQueueTimeout
	}
	return &limiter{slots: make(chan struct{}, max), timeout: timeout}
}

// DefaultQueueTimeout is how long a request waits for a slot when
// Options.QueueTimeout is not set.
const DefaultQueueTimeout = 30 * time.Second

// tryAcquire takes a free slot without waiting.
func (l *limiter) tryAcquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// wait takes a slot, waiting in line until expired fires (errQueueTimeout)
// or done is closed (cause). The caller counts itself in l.waiting.
func (l *limiter) wait(done <-chan struct{}, cause func() error, expired <-chan time.Time) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-expired:
		return errQueueTimeout
	case <-done:
		return cause()
	}
}

// acquire takes a slot for a request of the net/http front, waiting in line
// for at most l.timeout or until ctx ends. A nil limiter always has room.
func (l *limiter) acquire(ctx context.Context) error {
	if l == nil || l.tryAcquire() {
		return nil
	}
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	return l.wait(ctx.Done(), func() error { return context.Cause(ctx) }, t.C)
}

// release gives a slot back; the first request in line takes it.
func (l *limiter) release() {
	if l != nil {
		<-l.slots
	}
}

// Queued returns how many requests to addr wait for a slot under
// Options.Concurrency: at one instance, or, for a Table's upstream of
// several, at all of them.
func (r *Router) Queued(addr string) int64 {
	var n int64
	for _, u := range r.lookup(addr) {
		if u.lim != nil {
			n += u.lim.waiting.Load()
		}
	}
	return n
}

// limitedTransport holds a slot of its upstream's limiter for each round
// trip of the net/http front: RoundTrip returns with the response head, so
// the slot is freed when the app has answered, as on the fast path.
type limitedTransport struct {
	rt  http.RoundTripper
	lim *limiter
}

// wrap returns rt limited by l, or rt itself when there is no limit.
func (l *limiter) wrap(rt http.RoundTripper) http.RoundTripper {
	if l == nil {
		return rt
	}
	return limitedTransport{rt: rt, lim: l}
}

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.lim.acquire(req.Context()); err != nil {
		return nil, err
	}
	defer t.lim.release()
	return t.rt.RoundTrip(req)
}

// busyMessage logs a request that found no slot at u in time and returns
// the text of its 503.
func (r *Router) busyMessage(u *upstream, err error) string {
	c, _, ok := r.snap.Load().colorOf(u)
	r.log.Warn("proxy: no free slot at the app in time", "upstream", u.addr, "color", c,
		"limit", cap(u.lim.slots), "queue_timeout", u.lim.timeout, "err", err)
	name := "the release"
	if ok {
		name += " on " + string(c)
	}
	return "bascule: " + name + " is busy: it is already working on " + strconv.Itoa(cap(u.lim.slots)) +
		" requests, and this one waited " + u.lim.timeout.String() + " for its turn\n"
}
