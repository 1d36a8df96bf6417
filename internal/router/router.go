package router

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoUpstream is returned (wrapped) by Switch when the target color has no
// upstream to send traffic to.
var ErrNoUpstream = errors.New("no upstream")

// Options configures a Router. The zero value is a working router with
// preview disabled.
type Options struct {
	// Logger receives proxy errors and table changes. Nil discards.
	Logger *slog.Logger
	// PreviewHosts are host names (no port; case-insensitive) on which a
	// token given as ?bascule_preview=TOKEN turns into a preview cookie.
	PreviewHosts []string
	// PreviewHeader carries the preview token. Empty: "X-Bascule-Preview".
	PreviewHeader string
	// PreviewCookie carries the preview token. Empty: "bascule_preview".
	PreviewCookie string
	// StripCookies names cookies removed from every request before it is
	// proxied, such as the control plane's session cookie: browsers share
	// cookies across ports of one host, and the app must never see it.
	StripCookies []string
	// PreviewToken unlocks the idle color. Empty disables preview entirely,
	// so the public can never reach unreleased code.
	PreviewToken string
	// Transport sends every request upstream (H2C is then ignored). Nil: a
	// tuned *http.Transport, plus an h2c one for gRPC and H2C.
	Transport http.RoundTripper
	// H2C makes the default transports speak HTTP/2 with prior knowledge to
	// every upstream (for h2c apps), except for Upgrade requests (WebSocket),
	// which only HTTP/1.1 carries. Without it, gRPC requests (Content-Type
	// application/grpc, not grpc-web) still go over h2c, since gRPC cannot
	// work over HTTP/1.1; everything else goes over HTTP/1.1.
	H2C bool
	// Concurrency, if positive, is the most requests each instance works on
	// at once. Further requests wait in the router, first come first
	// served, and are answered 503 after QueueTimeout. A request counts from
	// before it is sent until the app's response head arrives, so streams,
	// SSE and upgraded connections stop counting once they have begun.
	Concurrency int
	// QueueTimeout bounds the wait for a slot under Concurrency. Zero:
	// DefaultQueueTimeout.
	QueueTimeout time.Duration
	// Observe, if set, is called after every routed request with the color
	// it went to, the status sent (101 for upgrades) and its duration. It is
	// called outside any lock, on the request's goroutine.
	Observe func(c Color, status int, d time.Duration)
	// Bucket places a cohort key in one of Buckets buckets for a split
	// (progressive go-live): the feature flags' bucketing function, so that
	// a go-live's cohorts are bucketed exactly as a flag's percentage
	// rollout. Nil: SetSplit refuses.
	Bucket func(flagKey, salt, key string) uint32
	// CohortKeyCookie and CohortKeyHeader name a cookie or header the app
	// sets (a user id, say) that keeps a user on one side of a split, the
	// cookie first. Without them, or when a request has neither, the
	// router's own cohort cookie does.
	CohortKeyCookie string
	CohortKeyHeader string
	// CohortCookie names the router's cohort cookie, which it sets during a
	// split on an answer to a request that had no key. Empty:
	// DefaultCohortCookie.
	CohortCookie string
	// EjectAfter, Eject5xx, EjectFor and EjectMax tune passive ejection of
	// an instance of a color of several: EjectAfter connection failures in
	// a row, or Eject5xx 5xx answers in a row, take it out of the color's
	// rotation for EjectFor, doubled at each ejection in a row up to
	// EjectMax. Zero: DefaultEjectAfter, DefaultEject5xx, DefaultEjectFor,
	// DefaultEjectMax.
	EjectAfter int
	Eject5xx   int
	EjectFor   time.Duration
	EjectMax   time.Duration
	// Resolver expands the references of a table ("k8s:NAMESPACE/SERVICE:PORT")
	// into instances; its owner calls Refresh when they change. Nil: the
	// router refuses tables with references (CheckTable).
	Resolver Resolver
}

// Router is the data plane: an http.Handler proxying to the live color.
// Its methods are safe for concurrent use.
type Router struct {
	snap atomic.Pointer[snapshot] // read lock-free on every request

	log          *slog.Logger
	edge         atomic.Pointer[edge] // Settings, read once per request
	bucket       func(flagKey, salt, key string) uint32
	strip        []string          // Options.StripCookies
	h1           http.RoundTripper // HTTP/1.1 upstream transport
	ownTransport bool              // no Options.Transport: plain requests take the h1Pool fast path
	h2c          http.RoundTripper // HTTP/2 prior-knowledge upstream transport
	allH2C       bool              // Options.H2C: h2c for everything but upgrades
	buffers      *bufferPool
	observe      func(Color, int, time.Duration)
	writers      sync.Pool // *trackingWriter
	eject        ejection  // Options.Eject*
	resolver     Resolver  // Options.Resolver; nil: no references

	mu        sync.Mutex // serialises writers; never taken by requests
	upstreams map[string]*upstream
}

// New returns a Router with blue live and no upstreams; Install or
// SetUpstream give it somewhere to send traffic.
func New(opts Options) *Router {
	r := &Router{
		log:       opts.Logger,
		bucket:    opts.Bucket,
		strip:     slices.Clone(opts.StripCookies),
		h1:        opts.Transport,
		h2c:       opts.Transport,
		allH2C:    opts.H2C,
		buffers:   &bufferPool{},
		observe:   opts.Observe,
		upstreams: map[string]*upstream{},
		eject:     newEjection(opts),
		resolver:  opts.Resolver,
	}
	r.edge.Store(r.newEdge(opts.settings()))
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Transport == nil {
		r.h1, r.h2c = newTransport(), newH2CTransport()
		r.ownTransport = true
	}
	r.writers.New = func() any { return new(trackingWriter) }
	r.snap.Store(&snapshot{table: Table{Live: Blue, Upstreams: map[Color]string{}}})
	return r
}

// ServeHTTP routes req to the live color, or to the idle one when it carries
// a valid preview token.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	e := r.edge.Load()
	if q, found := withoutPreviewParam(req.URL.RawQuery); found {
		if e.preview != nil {
			e.preview.link(w, req)
			return
		}
		// Preview is off: the parameter means nothing, and still the app
		// does not get to see what may be a token.
		req.URL.RawQuery = q
	}
	u, c, cohort := r.acquire(e, e.preview.match(req) == toIdle, (*stdRequest)(req))
	if u == nil {
		r.noUpstream(w, c)
		return
	}
	defer u.release()
	if cohort != "" {
		w.Header().Add("Set-Cookie", e.cohorts.setCookie(cohort))
	}
	upgrade := req.Header["Upgrade"] != nil
	proxy := u.proxy
	switch {
	case upgrade:
		proxy = u.h1 // only HTTP/1.1 can carry an Upgrade
	case isGRPC(req):
		proxy = u.h2c
	case req.Header["Expect"] != nil:
		proxy = u.h1 // http.Transport knows how to wait for 100 Continue
	}
	if r.observe == nil && !upgrade {
		proxy.ServeHTTP(w, req)
		return
	}
	r.serveTracked(w, req, u, c, proxy)
}

// acquire picks the upstream for a request and counts it in flight: the
// idle color for a preview, the split's color for a request whose cohort a
// progressive go-live has moved, else the live color; of the color's
// instances, the one colorSet.pick chooses. The count is taken,
// then the table re-read: if a writer published meanwhile the request
// re-routes, so once Switch (or SetSplit) returns no request can still be
// counted onto (or sent to) the color it switched away from unseen by
// Drain. cohort is a new cohort to set as the cohort cookie, or "".
func (r *Router) acquire(e *edge, idle bool, src cohortSource) (u *upstream, c Color, cohort string) {
	for {
		s := r.snap.Load()
		i := s.live
		switch {
		case idle && s.ups[1-i] != nil:
			i = 1 - i
		case s.split != nil:
			// Only while a progressive go-live is in progress; the key is
			// bucketed again if the table changed, as a step may have.
			var in bool
			if in, cohort = e.cohorts.toSplit(s.split, src); in {
				i = s.split.slot
			}
		}
		set := s.ups[i]
		if set == nil {
			return nil, slotColor(i), ""
		}
		u := set.pick()
		u.inflight.Add(1)
		if r.snap.Load() == s {
			return u, slotColor(i), cohort
		}
		u.release()
	}
}

// noUpstream answers for a color that has no upstream at all.
func (r *Router) noUpstream(w http.ResponseWriter, c Color) {
	writeError(w, http.StatusBadGateway, unreachableText(c, true, true))
	if r.observe != nil {
		r.observe(c, http.StatusBadGateway, 0)
	}
}

// Table returns a copy of the current routing table.
func (r *Router) Table() Table {
	return r.snap.Load().table.clone()
}

// Install atomically replaces the whole routing table, e.g. with the state
// persisted before a restart. An unknown Live color is taken as blue;
// upstreams of unknown colors are ignored.
func (r *Router) Install(t Table) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := t.Live.slot(); !ok {
		r.log.Warn("install table: unknown live color, using blue", "live", t.Live)
		t.Live = Blue
	}
	next := Table{Generation: t.Generation, Live: t.Live, Upstreams: map[Color]string{}}
	for c, addr := range t.Upstreams {
		if _, ok := c.slot(); ok && SplitAddrs(addr) != nil {
			next.Upstreams[c] = JoinAddrs(SplitAddrs(addr))
		}
	}
	if t.Split != nil {
		if err := r.checkSplit(next, *t.Split); err != nil {
			r.log.Warn("install table: split ignored", "err", err)
		} else {
			sp := *t.Split
			next.Split = &sp
		}
	}
	r.publish(next)
	r.log.Info("routing table installed", "generation", next.Generation, "live", next.Live, "blue", next.Upstreams[Blue], "green", next.Upstreams[Green])
}

// CheckTable returns why Install would not serve t exactly as given (an
// unknown color, a split the router cannot apply), or nil. A caller that
// persists a table before installing it checks it first, so that the table
// on disk is the one served.
func (r *Router) CheckTable(t Table) error {
	if _, ok := t.Live.slot(); !ok {
		return fmt.Errorf("table: live %q: %w", t.Live, ErrUnknownColor)
	}
	for c, up := range t.Upstreams {
		if _, ok := c.slot(); !ok {
			return fmt.Errorf("table: upstream of %q: %w", c, ErrUnknownColor)
		}
		if err := r.checkRef(c, up); err != nil {
			return err
		}
	}
	if t.Split != nil {
		return r.checkSplit(t, *t.Split)
	}
	return nil
}

// SetUpstream atomically points color c at addr ("" removes it): one
// instance's address, or several joined by commas (JoinAddrs). Requests in
// flight to the previous instances finish there; Drain waits for them.
func (r *Router) SetUpstream(c Color, addr string) {
	if _, ok := c.slot(); !ok {
		r.log.Warn("set upstream: unknown color ignored", "color", c)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.snap.Load().table.clone()
	addr = JoinAddrs(SplitAddrs(addr))
	if addr == "" {
		delete(next.Upstreams, c)
		if next.Split != nil && next.Split.To == c {
			next.Split = nil // nothing left to send the share to
		}
	} else {
		next.Upstreams[c] = addr
	}
	r.publish(next)
	r.log.Info("upstream set", "color", c, "addr", addr)
}

// Switch makes color to live and ends any split: all of production goes to
// to. It returns an error wrapping ErrNoUpstream if to has no upstream, or
// ErrUnknownColor. Once it returns, every new request — including the next
// one on a kept-alive client connection — goes to to; requests in flight
// finish where they started.
func (r *Router) Switch(to Color) error {
	if _, ok := to.slot(); !ok {
		return fmt.Errorf("switch to %q: %w", to, ErrUnknownColor)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.snap.Load().table
	if cur.Upstreams[to] == "" {
		return fmt.Errorf("switch to %s: %w", to, ErrNoUpstream)
	}
	if cur.Live == to && cur.Split == nil {
		return nil
	}
	next := cur.clone()
	next.Live, next.Split = to, nil
	r.publish(next)
	r.log.Info("switched", "live", to, "addr", next.Upstreams[to])
	return nil
}

// publish builds the snapshot for t, stores it and forgets upstreams that
// nothing routes or waits to. r.mu must be held.
func (r *Router) publish(t Table) {
	s := &snapshot{table: t}
	s.live, _ = t.Live.slot()
	for c, addr := range t.Upstreams {
		i, _ := c.slot()
		s.ups[i] = r.newColorSet(addr)
	}
	s.split = compileSplit(t, s.ups)
	r.markBalanced(s)
	r.snap.Store(s)
	r.prune(s)
}

// markBalanced sets upstream.balanced on the instances of a color of
// several in s, and clears it (with any ejection) on the others: an
// instance alone gets its color's every request whatever its record, and
// starts afresh if it joins others again. r.mu must be held.
func (r *Router) markBalanced(s *snapshot) {
	for _, u := range r.upstreams {
		many := false
		for _, cs := range s.ups {
			if cs != nil && len(cs.ups) > 1 && cs.has(u) {
				many = true
			}
		}
		if !many && u.balanced.Load() {
			u.health.reset()
		}
		u.balanced.Store(many)
	}
}

// upstreamFor returns the registered upstream for addr, creating it. r.mu
// must be held.
func (r *Router) upstreamFor(addr string) *upstream {
	u := r.upstreams[addr]
	if u == nil {
		u = r.newUpstream(addr)
		r.upstreams[addr] = u
	}
	return u
}
