package router

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// trackingWriter wraps the ResponseWriter only when needed (Observe is set
// or the request asks for an upgrade): it records the status and registers
// hijacked connections with their upstream so Drain can cut them.
type trackingWriter struct {
	http.ResponseWriter
	up     *upstream
	status int
	conn   net.Conn
}

// WriteHeader records the final status.
func (w *trackingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *trackingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the client connection to ReverseProxy's upgrade copy and
// keeps it on the upstream's list while it lives.
func (w *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.status = http.StatusSwitchingProtocols
	w.conn = c
	w.up.track(c)
	return c, brw, nil
}

// serveTracked proxies through a pooled trackingWriter, then reports to
// Observe and forgets any upgraded connection (even if the proxy panics to
// abort a broken response).
func (r *Router) serveTracked(w http.ResponseWriter, req *http.Request, u *upstream, c Color, proxy http.Handler) {
	tw := r.writers.Get().(*trackingWriter)
	*tw = trackingWriter{ResponseWriter: w, up: u}
	var start time.Time
	if r.observe != nil {
		start = time.Now()
	}
	defer func() {
		if tw.conn != nil {
			u.untrack(tw.conn)
		}
		status := tw.status
		*tw = trackingWriter{}
		r.writers.Put(tw)
		if r.observe != nil {
			r.observe(c, status, time.Since(start))
		}
	}()
	proxy.ServeHTTP(tw, req)
}
