package router

import (
	"net"
	"net/http"
	"time"
)

// newTransport returns the transport used when Options.Transport is nil:
// plenty of idle connections per upstream (all traffic goes to one or two
// local addresses), bounded dials, and no transparent gzip so bodies pass
// through untouched.
func newTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // never send upstream traffic through an environment proxy
		DialContext:           d.DialContext,
		MaxIdleConns:          0, // no global limit
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// newH2CTransport returns a transport speaking HTTP/2 with prior knowledge
// over plain TCP (h2c), for gRPC and h2c-only upstreams.
func newH2CTransport() *http.Transport {
	t := newTransport()
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	t.Protocols = &p
	return t
}
