package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/api"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/web"
)

// newCrossOrigin returns the control plane's cross-origin protection, in
// defence in depth beside the sessions' CSRF tokens: a browser's change
// (POST, PUT, DELETE…) sent by a page of another site, same-site siblings
// included, is refused with 403 whatever credentials it carries. Browsers
// say where a request comes from (Sec-Fetch-Site, else Origin); the CLI,
// CI and the SDKs send neither and pass, as do safe methods.
//
// OFREP is exempt. Its callers authenticate with an API key in a header,
// never with a cookie, so a page of another site has no ambient credential
// to borrow there and the check would protect nothing. And OFREP is
// cross-origin by design: an OpenFeature web SDK evaluates from the app's
// pages, on another origin than bascule's: browser apps of the origins in
// ofrep.cors_origins call it with CORS (see crossOriginExempt in flags.go).
func newCrossOrigin(cfg config.Config) (*http.CrossOriginProtection, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.ControlTrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("control_trusted_origins: %w", err)
		}
	}
	for _, p := range crossOriginExempt {
		cop.AddInsecureBypassPattern(p)
	}
	return cop, nil
}

// crossOriginDenied answers a refused cross-origin change in the shape of
// the part it was sent to, the API's JSON error or the UI's page, after
// recording it: a forged request against a logged-in operator is worth
// knowing about, so the audit log names the session's or token's holder.
func (s *Server) crossOriginDenied(apiH *api.Handler, webH *web.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := s.auth.Identify(r)
		from := requestSite(r)
		actor := p.Name
		if actor == "" {
			actor = "anonymous"
		}
		s.log.Warn("cross-origin change refused", "method", r.Method, "path", r.URL.Path, "from", from,
			"actor", actor, "client", s.auth.Source(r, p))
		ctx := store.WithSource(r.Context(), s.auth.Source(r, p))
		e := &store.AuditEntry{At: time.Now().UTC(), Actor: actor, Action: "denied", Target: r.Method + " " + r.URL.Path,
			Outcome: "cross_origin", Detail: "sent from another site: " + from}
		if err := s.store.AppendAudit(ctx, e); err != nil {
			s.log.Error("append audit", "action", "denied", "err", err)
		}
		err := fmt.Errorf("%w: %s %s was sent from another site (%s); the control plane takes changes only from its own pages and control_trusted_origins",
			auth.ErrCrossOrigin, r.Method, r.URL.Path, from)
		if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
			apiH.WriteError(w, r, err)
			return
		}
		webH.WriteError(w, r, err)
	})
}

// requestSite says what the browser told of the request's origin, bounded:
// the headers are the sender's to write.
func requestSite(r *http.Request) string {
	var parts []string
	if v := r.Header.Get("Sec-Fetch-Site"); v != "" {
		parts = append(parts, "Sec-Fetch-Site "+bound(v, 32))
	}
	if v := r.Header.Get("Origin"); v != "" {
		parts = append(parts, "Origin "+bound(v, 200))
	}
	return strings.Join(parts, ", ")
}

func bound(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
