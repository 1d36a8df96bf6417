package router

import (
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
)

// upstream is one backend address with its pre-built proxies and exact
// in-flight accounting. It outlives the tables that reference it until
// nothing is in flight to it any more (see Router.prune).
type upstream struct {
	addr  string
	proxy *httputil.ReverseProxy // the usual one: h1, or h2c when Options.H2C
	h1    *httputil.ReverseProxy // HTTP/1.1, for upgrades (WebSocket needs it)
	h2c   *httputil.ReverseProxy // HTTP/2 prior knowledge, for gRPC
	pool  *h1Pool                // the default transport's fast HTTP/1.1 path; nil with Options.Transport
	lim   *limiter               // Options.Concurrency; nil: no limit
	main  http.RoundTripper      // proxy's transport (limited), for a request another instance failed; nil when not the pool

	// balanced is set while u is one of several instances of a color:
	// only then are its answers and failures recorded for ejection.
	balanced atomic.Bool
	health   health

	// refs are the references (Table upstreams) that expanded to u at
	// some point while it was registered; guarded by Router.mu.
	refs map[string]bool

	inflight atomic.Int64
	waiters  atomic.Int32 // Drain calls waiting on this upstream

	mu      sync.Mutex
	changed chan struct{}         // closed when a request ends or is upgraded while waiters > 0
	conns   map[net.Conn]struct{} // hijacked (upgraded) client connections
}

// release ends one request and wakes any Drain waiting on the counts.
func (u *upstream) release() {
	u.inflight.Add(-1)
	if u.waiters.Load() > 0 {
		u.wake()
	}
}

// wake tells the waiters that the counts changed; they read them again.
func (u *upstream) wake() {
	u.mu.Lock()
	if u.changed != nil {
		close(u.changed)
		u.changed = nil
	}
	u.mu.Unlock()
}

// changedChan returns the channel closed at the next change of the counts.
func (u *upstream) changedChan() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.changed == nil {
		u.changed = make(chan struct{})
	}
	return u.changed
}

// plain returns how many requests in flight are not upgraded connections.
func (u *upstream) plain() int64 {
	u.mu.Lock()
	n := int64(len(u.conns))
	u.mu.Unlock()
	return u.inflight.Load() - n
}

// track records an upgraded connection so Drain can cut it at its deadline.
func (u *upstream) track(c net.Conn) {
	u.mu.Lock()
	if u.conns == nil {
		u.conns = map[net.Conn]struct{}{}
	}
	u.conns[c] = struct{}{}
	u.mu.Unlock()
	if u.waiters.Load() > 0 {
		u.wake() // DrainRequests no longer waits for it
	}
}

// untrack forgets an upgraded connection once its proxying has ended.
func (u *upstream) untrack(c net.Conn) {
	u.mu.Lock()
	delete(u.conns, c)
	u.mu.Unlock()
}

// closeUpgraded forcibly closes every upgraded connection; closing the client
// side ends ReverseProxy's copy loops, which close the backend side too.
func (u *upstream) closeUpgraded() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns {
		c.Close()
	}
	return len(u.conns)
}
