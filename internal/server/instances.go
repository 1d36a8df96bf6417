package server

import (
	"context"
	"time"

	"github.com/bascule/bascule/internal/runtime"
)

// minCheckInterval bounds how often the router's active health checks
// probe each instance of a color of several: health_check.interval (200ms
// by default) paces the wait for a new release, a short and one-off affair;
// these checks run for as long as bascule does.
const minCheckInterval = time.Second

// startInstanceChecks runs the router's active health checks of colors of
// several instances, with the app's health check, until shutdown.
func (s *Server) startInstanceChecks() {
	hc := healthCheck(s.cfg)
	s.stopChecks = background(func(ctx context.Context) {
		s.router.CheckInstances(ctx, max(s.cfg.HealthCheck.Interval, minCheckInterval), func(ctx context.Context, addr string) error {
			return runtime.Probe(ctx, addr, hc)
		})
	})
}
