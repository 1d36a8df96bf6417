package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"github.com/bascule/bascule/internal/httperr"
	"github.com/bascule/bascule/internal/store"
)

// forwardedHeader marks a request a follower forwarded, with the name of
// the instance that did. An instance that receives one and does not lead
// answers 503 instead of forwarding it on, so that two instances that
// disagree for a moment about who leads cannot pass a request back and
// forth.
const forwardedHeader = "X-Bascule-Forwarded-By"

// leaderTarget is where a follower forwards a request, in its context.
type leaderTarget struct{}

// forwarder sends the changes a follower receives to the leader, and lets
// everything else through to the local control plane.
type forwarder struct {
	s     *Server
	next  http.Handler
	proxy *httputil.ReverseProxy
	// writeError answers an error as the API does, in JSON.
	writeError func(http.ResponseWriter, *http.Request, error)
}

// forwardChanges wraps the control plane of an instance that shares its
// store: while it does not lead, each change (any method but GET, HEAD
// and OPTIONS; OFREP evaluations, which are POSTs that change nothing,
// aside) is sent to the leader by a reverse proxy and its answer relayed.
// A proxy rather than a 307: the CLI, CI scripts and browsers would each
// have to follow a redirect with a body, and a browser would leave its
// session cookie behind on another host. Reads are served here, from the
// shared store.
func (s *Server) forwardChanges(next http.Handler, writeError func(http.ResponseWriter, *http.Request, error)) http.Handler {
	f := &forwarder{s: s, next: next, writeError: writeError}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := pr.In.Context().Value(leaderTarget{}).(*url.URL)
			pr.SetURL(target)
			// The leader checks the request as if it had come to it: same
			// Host (cross-origin protection compares Origin with it, and
			// a session cookie is set for it), same client. X-Forwarded-For
			// keeps what trusted proxies in front wrote, and this instance
			// appends the address it got the request from.
			pr.Out.Host = pr.In.Host
			if xff := pr.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				pr.Out.Header["X-Forwarded-For"] = xff
			}
			pr.SetXForwarded()
			pr.Out.Header.Set(forwardedHeader, s.elector.Holder())
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			target := r.Context().Value(leaderTarget{}).(*url.URL)
			s.log.Warn("forward to the leader", "leader", target.String(), "method", r.Method, "path", r.URL.Path, "err", err)
			if !isChange(r) {
				f.next.ServeHTTP(w, r) // a read: what this instance knows, as above
				return
			}
			f.unavailable(w, r, "leader_unreachable", fmt.Sprintf(
				"the leader of the control plane, %s, did not answer; if it died, another instance takes over within %s: try again",
				target.Host, s.elector.TTL()))
		},
	}
	return f
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !leadersToServe(r) {
		f.next.ServeHTTP(w, r)
		return
	}
	if _, leading := f.s.elector.Leading(); leading {
		f.next.ServeHTTP(w, r)
		return
	}
	// A read of the leader's go-live that no leader can answer (a
	// takeover, or it was forwarded here already) gets what this
	// instance knows, from the store, rather than an error that would
	// end bascule go-live --watch.
	read := !isChange(r)
	if by := r.Header.Get(forwardedHeader); by != "" {
		if read {
			f.next.ServeHTTP(w, r)
			return
		}
		f.unavailable(w, r, "not_leader", fmt.Sprintf(
			"%s forwarded this to %s, which no longer leads the control plane; try again", by, f.s.elector.Holder()))
		return
	}
	l, err := f.s.elector.Current(r.Context())
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		f.writeError(w, r, fmt.Errorf("find the leader: %w", err))
		return
	case err != nil || l.Remaining <= 0 || l.Holder == f.s.elector.Holder():
		if read {
			f.next.ServeHTTP(w, r)
			return
		}
		f.unavailable(w, r, "no_leader", fmt.Sprintf(
			"no instance leads the control plane at this moment; one takes over within %s: try again", f.s.elector.TTL()))
		return
	}
	target, err := url.Parse(l.URL)
	if err != nil || target.Host == "" {
		f.writeError(w, r, fmt.Errorf("the leader %s advertises %q, not a URL: %w", l.Holder, l.URL, err))
		return
	}
	f.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), leaderTarget{}, target)))
}

// leadersToServe reports whether r is the leader's to serve: a change, or
// a read of the go-live the leader runs (its progress and the guard's
// watch live in the leader's memory; a follower would answer that none
// runs, and bascule go-live --watch would stop watching).
func leadersToServe(r *http.Request) bool {
	if r.URL.Path == goLivePath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		return true
	}
	return isChange(r)
}

// goLivePath is the API's go-live state (api.Handler's GET /api/v1/go-live).
const goLivePath = "/api/v1/go-live"

// isChange reports whether r may change something.
func isChange(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return !strings.HasPrefix(r.URL.Path, ofrepPath)
}

// unavailable answers 503 with a Retry-After of a third of the lease's
// time to live: about when a takeover may have happened.
func (f *forwarder) unavailable(w http.ResponseWriter, r *http.Request, code, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(f.s.elector.TTL().Seconds()/3))))
	f.writeError(w, r, httperr.New(http.StatusServiceUnavailable, code, "%s", msg))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
