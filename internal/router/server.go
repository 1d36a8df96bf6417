package router

import (
	"net/http"
	"time"
)

// NewServer returns an *http.Server for h (normally a Router) on addr with
// the settings a front proxy needs: slow clients cannot hold a connection
// before sending headers (ReadHeaderTimeout 10s), idle keep-alives are
// reclaimed (IdleTimeout 120s), and there is deliberately no WriteTimeout
// or ReadTimeout so streams, SSE, uploads and WebSockets are not cut. It
// also accepts HTTP/2 with prior knowledge (h2c), so gRPC clients can reach
// h2c upstreams through it.
func NewServer(addr string, h http.Handler) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		Protocols:         &p,
	}
}
