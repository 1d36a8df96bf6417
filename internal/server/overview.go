package server

import "net/http"

// overviewPage is a placeholder until the web UI lands.
func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(`<!doctype html><title>bascule</title><p>bascule control plane. API under /api/v1.`))
}
