package server

import (
	"net"
	"net/url"

	"github.com/bascule/bascule/internal/web"
)

// webUI is the control room, on every control-plane path the API, OFREP,
// /metrics and /healthz do not claim.
func (s *Server) webUI(m *metrics) *web.Handler {
	return web.New(web.Options{Auth: s.auth, Store: s.store, Deploy: s.deploy, Flags: s.flags, Fleet: s.fleet,
		Stats: m.colorStats, PreviewURL: s.previewURL(), Logger: s.log.With("component", "web"),
		Notifications: s.notify})
}

// previewURL opens the idle color in a browser: the first preview host, on
// the router's port unless the host names one, with the preview token,
// which the router turns into a cookie. "" when no preview host is set.
func (s *Server) previewURL() string {
	if len(s.cfg.Preview.Hosts) == 0 || s.PreviewToken == "" {
		return ""
	}
	host := s.cfg.Preview.Hosts[0]
	if _, _, err := net.SplitHostPort(host); err != nil {
		_, port, _ := net.SplitHostPort(s.routerLn.Addr().String())
		host = net.JoinHostPort(host, port)
	}
	return "http://" + host + "/?bascule_preview=" + url.QueryEscape(s.PreviewToken)
}
