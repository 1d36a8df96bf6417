package router

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
)

// newUpstream builds the proxies for addr once, so the request path never
// constructs one.
func (r *Router) newUpstream(addr string) *upstream {
	s := r.edge.Load().settings
	u := &upstream{addr: addr, lim: newLimiter(s.Concurrency, s.QueueTimeout)}
	u.h1 = r.newProxy(u, r.h1)
	u.h2c = r.newProxy(u, r.h2c)
	u.proxy = u.h1
	switch {
	case r.allH2C:
		u.proxy = u.h2c
	case r.ownTransport:
		u.pool = newH1Pool(addr)
		u.main = u.lim.wrap(u.pool)
		u.proxy = r.newProxy(u, u.pool)
		// The same limited pool, seen through the instance's record of
		// answers and failures (and its retry on another instance).
		u.proxy.Transport = balancedTransport{r: r, u: u, rt: u.main}
	}
	return u
}

// newProxy returns a ReverseProxy to u over rt. Streaming responses are
// flushed at once (SSE); upgrades are handled by ReverseProxy itself.
func (r *Router) newProxy(u *upstream, rt http.RoundTripper) *httputil.ReverseProxy {
	addr := u.addr
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// What SetURL does for a target without path or query, minus
			// its allocations; the Host header is kept for the app.
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = addr
			setXForwarded(pr)
			r.stripOut(pr.Out.Header)
		},
		Transport:     u.lim.wrap(rt),
		FlushInterval: 0, // streaming (SSE, unknown length) is flushed at once by ReverseProxy itself
		BufferPool:    r.buffers,
		ErrorLog:      slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			r.proxyError(w, req, u, err)
		},
	}
}

// setXForwarded does what ProxyRequest.SetXForwarded does (ReverseProxy has
// already removed any client-sent X-Forwarded-* from Out, so a client cannot
// spoof its address) with one allocation instead of three.
func setXForwarded(pr *httputil.ProxyRequest) {
	v := make([]string, 3)
	v[1], v[2] = pr.In.Host, "http"
	if pr.In.TLS != nil {
		v[2] = "https"
	}
	h := pr.Out.Header
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		v[0] = ip
		h["X-Forwarded-For"] = v[0:1:1]
	}
	h["X-Forwarded-Host"] = v[1:2:2]
	h["X-Forwarded-Proto"] = v[2:3:3]
}

// proxyError answers a request the upstream could not serve.
func (r *Router) proxyError(w http.ResponseWriter, req *http.Request, u *upstream, err error) {
	if errors.Is(err, context.Canceled) && req.Context().Err() != nil {
		// The client went away; nobody will read the answer.
		r.log.Debug("proxy: client canceled", "upstream", u.addr)
		writeError(w, http.StatusBadGateway, unreachableText(r.snap.Load().colorOf(u)))
		return
	}
	if errors.Is(err, errQueueTimeout) {
		writeError(w, http.StatusServiceUnavailable, r.busyMessage(u, err))
		return
	}
	writeError(w, http.StatusBadGateway, r.unreachableMessage(u, err))
}

// unreachableMessage logs an upstream failure and returns the text of the
// 502 that says which release is down.
func (r *Router) unreachableMessage(u *upstream, err error) string {
	c, live, ok := r.snap.Load().colorOf(u)
	r.log.Warn("proxy: upstream failed", "upstream", u.addr, "color", c, "err", err)
	return unreachableText(c, live, ok)
}

// unreachableText is the body of a 502 for color c, the live one or not;
// !ok when the failed upstream is no longer either color's.
func unreachableText(c Color, live, ok bool) string {
	switch {
	case !ok:
		return "bascule: the release is not reachable\n"
	case live:
		return "bascule: the live release (" + string(c) + ") is not reachable\n"
	default:
		return "bascule: the preview release (" + string(c) + ") is not reachable\n"
	}
}

// errorHeader is the header of every 502 and 503 the router writes itself,
// through net/http (writeError) or the fast path (answerError), so the two
// fronts answer alike. Keys are in canonical form.
var errorHeader = [...][2]string{
	{"Content-Type", "text/plain; charset=utf-8"},
	{"X-Content-Type-Options", "nosniff"},
	{"Cache-Control", "no-store"},
}

// writeError writes a short 502 or 503 that says which release failed.
func writeError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	for _, kv := range errorHeader {
		h[kv[0]] = []string{kv[1]}
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

// isGRPC reports whether req is gRPC (not gRPC-Web), which only works over
// HTTP/2 and so must reach the upstream over h2c.
func isGRPC(req *http.Request) bool {
	ct := req.Header["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	rest, ok := strings.CutPrefix(ct[0], "application/grpc")
	return ok && (rest == "" || rest[0] == '+' || rest[0] == ';')
}

// bufferPool recycles ReverseProxy copy buffers without allocating: the
// []byte travels in a reusable *[]byte holder.
type bufferPool struct {
	bufs    sync.Pool // *[]byte holding a buffer
	holders sync.Pool // empty *[]byte
}

const copyBufferSize = 32 << 10

// Get returns a copy buffer.
func (p *bufferPool) Get() []byte {
	h, _ := p.bufs.Get().(*[]byte)
	if h == nil {
		return make([]byte, copyBufferSize)
	}
	b := *h
	*h = nil
	p.holders.Put(h)
	return b
}

// Put returns a copy buffer for reuse.
func (p *bufferPool) Put(b []byte) {
	h, _ := p.holders.Get().(*[]byte)
	if h == nil {
		h = new([]byte)
	}
	*h = b
	p.bufs.Put(h)
}
